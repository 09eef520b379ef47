import { credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { GiftCardServiceClient } from '../gen/giftcard/v1/gift_card_service';
import { AMOUNT_MINOR, CURRENCY, ISSUE_AMOUNT_MINOR } from './scenarios';
import type { PlannedCall, Workload } from './workload';

/** A call that takes this long has failed for any purpose the bench has; it counts as an error. */
const CALL_DEADLINE_MS = 10_000;

/** Fields naming no saved card: the calls name their card by credentials. */
const NO_SAVED_CARD = { giftCardId: '', userId: '' };

/** Calls the gift card service (or the no-op server that mimics it) like an internal client would. */
export class GrpcWorkload implements Workload {
  private readonly clients: GiftCardServiceClient[];

  constructor(address: string, channels: number) {
    // A local subchannel pool per client, so each one opens its own HTTP/2 connection: with a
    // cluster of servers, connections are what the workers share out.
    this.clients = Array.from(
      { length: Math.max(1, channels) },
      () => new GiftCardServiceClient(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
    );
  }

  perform(call: PlannedCall): Promise<void> {
    const client = this.clients[call.user % this.clients.length]!;
    const options = { deadline: Date.now() + CALL_DEADLINE_MS };
    const credentialsOfCard = { cardNumber: call.card.cardNumber, passcode: call.card.passcode };
    return new Promise((resolve, reject) => {
      const done = (error: ServiceError | null): void => {
        if (error) reject(error);
        else resolve();
      };
      switch (call.operation) {
        case 'redeem':
        case 'redeem-hot':
          client.redeem(
            {
              idempotencyKey: call.idempotencyKey,
              ...credentialsOfCard,
              ...NO_SAVED_CARD,
              amount: AMOUNT_MINOR,
              currency: CURRENCY,
              orderId: '',
              allowPartial: false,
            },
            new Metadata(),
            options,
            done,
          );
          return;
        case 'reload':
          client.reload(
            {
              idempotencyKey: call.idempotencyKey,
              ...credentialsOfCard,
              ...NO_SAVED_CARD,
              amount: AMOUNT_MINOR,
              currency: CURRENCY,
              sourceTransactionId: `reload-${call.idempotencyKey}`,
            },
            new Metadata(),
            options,
            done,
          );
          return;
        case 'inquiry':
          client.balanceInquiry({ ...credentialsOfCard, ...NO_SAVED_CARD }, new Metadata(), options, done);
          return;
        case 'issue':
          client.issueVirtualCard(
            {
              idempotencyKey: call.idempotencyKey,
              amount: ISSUE_AMOUNT_MINOR,
              currency: CURRENCY,
              sourceTransactionId: `purchase-${call.idempotencyKey}`,
              userId: '',
              expireTime: undefined,
            },
            new Metadata(),
            options,
            done,
          );
          return;
      }
    });
  }

  classify(error: unknown): string {
    const code = (error as Partial<ServiceError> | null)?.code;
    return typeof code === 'number' ? GrpcStatus[code] || `CODE_${code}` : 'CLIENT_ERROR';
  }

  close(): Promise<void> {
    for (const client of this.clients) client.close();
    return Promise.resolve();
  }
}
