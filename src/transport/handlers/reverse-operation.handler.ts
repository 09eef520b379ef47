import {
  OperationType,
  ReversalOutcome as ProtoReversalOutcome,
  type ReverseOperationRequest,
  type ReverseOperationResponse,
} from '../../../gen/giftcard/v1/reversal';
import type { AppContext } from '../../application/ports';
import { ReversalOutcome, reverseOperation } from '../../application/reverse-operation';
import { ReversibleOperation } from '../../domain/reversal';
import { RequestFields } from '../validation';

const OPERATION_TO_PROTO: Readonly<Record<ReversibleOperation, OperationType>> = {
  [ReversibleOperation.ISSUE_VIRTUAL_CARD]: OperationType.OPERATION_TYPE_ISSUE_VIRTUAL_CARD,
  [ReversibleOperation.RELOAD]: OperationType.OPERATION_TYPE_RELOAD,
  [ReversibleOperation.REDEEM]: OperationType.OPERATION_TYPE_REDEEM,
  [ReversibleOperation.AUTHORIZE_REDEMPTION]: OperationType.OPERATION_TYPE_AUTHORIZE_REDEMPTION,
  [ReversibleOperation.CAPTURE_HOLD]: OperationType.OPERATION_TYPE_CAPTURE_HOLD,
};

const OPERATION_FROM_PROTO: ReadonlyMap<OperationType, ReversibleOperation> = new Map(
  Object.entries(OPERATION_TO_PROTO).map(([operation, proto]) => [proto, operation as ReversibleOperation]),
);

const OUTCOME_TO_PROTO: Readonly<Record<ReversalOutcome, ProtoReversalOutcome>> = {
  [ReversalOutcome.REVERSED]: ProtoReversalOutcome.REVERSAL_OUTCOME_REVERSED,
  [ReversalOutcome.NOT_FOUND]: ProtoReversalOutcome.REVERSAL_OUTCOME_NOT_FOUND,
};

export const reverseOperationHandler =
  (app: AppContext) =>
  async (request: ReverseOperationRequest): Promise<ReverseOperationResponse> => {
    const fields = new RequestFields();
    const operation = OPERATION_FROM_PROTO.get(request.operationType);
    if (operation === undefined) fields.violation('operationType', 'must name the operation to reverse');
    const idempotencyKey = fields.idempotencyKey(request.idempotencyKey);
    fields.check();
    if (operation === undefined) throw new Error('validated above');
    const result = await reverseOperation(app, { operation, idempotencyKey });
    return {
      outcome: OUTCOME_TO_PROTO[result.outcome],
      operationType: OPERATION_TO_PROTO[result.operation],
      giftCardId: result.giftCardId ?? '',
      reversedAmount: result.reversedMinor,
      transactionId: result.transactionId ?? '',
      reversedTransactionId: result.reversedTransactionId ?? '',
      holdId: result.holdId ?? '',
      balance: result.balanceMinor ?? 0n,
      availableBalance: result.availableMinor ?? 0n,
      currency: result.currency ?? '',
    };
  };
