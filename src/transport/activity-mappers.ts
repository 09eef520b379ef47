import {
  ActivityType as ProtoActivityType,
  type CardActivity as ProtoCardActivity,
} from '../../gen/giftcard/v1/card_activity';
import { ActivityType, type CardActivity } from '../domain/card-activity';

const TYPE_TO_PROTO: Readonly<Record<ActivityType, ProtoActivityType>> = {
  [ActivityType.ISSUE]: ProtoActivityType.ACTIVITY_TYPE_ISSUE,
  [ActivityType.RELOAD]: ProtoActivityType.ACTIVITY_TYPE_RELOAD,
  [ActivityType.REDEEM]: ProtoActivityType.ACTIVITY_TYPE_REDEEM,
  [ActivityType.REFUND]: ProtoActivityType.ACTIVITY_TYPE_REFUND,
  [ActivityType.TRANSFER_OUT]: ProtoActivityType.ACTIVITY_TYPE_TRANSFER_OUT,
  [ActivityType.TRANSFER_IN]: ProtoActivityType.ACTIVITY_TYPE_TRANSFER_IN,
  [ActivityType.COMBINE_OUT]: ProtoActivityType.ACTIVITY_TYPE_COMBINE_OUT,
  [ActivityType.COMBINE_IN]: ProtoActivityType.ACTIVITY_TYPE_COMBINE_IN,
  [ActivityType.HOLD_PLACED]: ProtoActivityType.ACTIVITY_TYPE_HOLD_PLACED,
  [ActivityType.HOLD_CAPTURED]: ProtoActivityType.ACTIVITY_TYPE_HOLD_CAPTURED,
  [ActivityType.HOLD_VOIDED]: ProtoActivityType.ACTIVITY_TYPE_HOLD_VOIDED,
  [ActivityType.HOLD_EXPIRED]: ProtoActivityType.ACTIVITY_TYPE_HOLD_EXPIRED,
  [ActivityType.REVERSAL]: ProtoActivityType.ACTIVITY_TYPE_REVERSAL,
  [ActivityType.ADJUSTMENT]: ProtoActivityType.ACTIVITY_TYPE_ADJUSTMENT,
};

const TYPE_FROM_PROTO: ReadonlyMap<ProtoActivityType, ActivityType> = new Map(
  Object.entries(TYPE_TO_PROTO).map(([type, proto]) => [proto, type as ActivityType]),
);

/** The filter a request names: null for UNSPECIFIED (every type), undefined for a value we do not know. */
export function activityTypeFromProto(type: ProtoActivityType): ActivityType | null | undefined {
  if (type === ProtoActivityType.ACTIVITY_TYPE_UNSPECIFIED) return null;
  return TYPE_FROM_PROTO.get(type);
}

export function cardActivityToProto(activity: CardActivity): ProtoCardActivity {
  return {
    activityId: activity.publicId,
    type: TYPE_TO_PROTO[activity.type],
    amount: activity.amountMinor,
    balanceAfter: activity.balanceAfterMinor,
    availableBalanceAfter: activity.availableAfterMinor,
    currency: activity.currency,
    occurTime: activity.occurredAt,
    reference: activity.reference ?? '',
    counterpartGiftCardId: activity.counterpartGiftCardId ?? '',
    relatedTransactionId: activity.relatedTransactionId ?? '',
    holdId: activity.holdId ?? '',
  };
}
