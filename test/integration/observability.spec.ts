import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { BalanceInquiryRequest } from '../../gen/giftcard/v1/gift_card_service';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { useTestService } from '../support/integration-hooks';
import { sample, scrapeMetrics } from '../support/metrics-page';
import { waitForLockWaits } from '../support/lock-waits';
import { rpcError, settle } from '../support/rpc-error';
import { rawConnection, testDatabaseName } from '../support/test-database';
import type { TestService } from '../support/test-service';

const spans = new InMemorySpanExporter();
const logLines: string[] = [];
let svc: TestService;
useTestService(
  (started) => {
    ({ svc } = started);
  },
  { LOG_LEVEL: 'info' },
  { logLines, spanExporter: spans, ephemeralMetricsPort: true },
);

const scrape = (): Promise<string> => scrapeMetrics(svc.service.metricsPort);

const rpc = (method: string) => `grpc_type="unary",grpc_service="giftcard.v1.GiftCardService",grpc_method="${method}"`;

describe('Metrics (METRICS_PORT)', () => {
  it('counts each RPC by its code under the go-grpc-prometheus names, read with curl', async () => {
    const before = await scrape();
    const card = await issueCard(svc.api, { amount: 1_000n });
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' });
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 200n, currency: 'USD' });
    await rpcError(
      svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 5_000n, currency: 'USD' }),
    );
    await rpcError(
      svc.api.redeem({
        idempotencyKey: newKey(),
        cardNumber: card.cardNumber,
        passcode: '00000000',
        amount: 1n,
        currency: 'USD',
      }),
    );
    const replayKey = newKey();
    const replayed = { idempotencyKey: replayKey, ...credentialsOf(card), amount: 1n, currency: 'USD' };
    await svc.api.redeem(replayed);
    await svc.api.redeem(replayed);
    const after = await scrape();
    const delta = (series: string): number =>
      sample(after, series) - (before.includes(`${series} `) ? sample(before, series) : 0);
    expect(delta(`grpc_server_started_total{${rpc('Redeem')}}`)).toBe(6);
    expect(delta(`grpc_server_handled_total{${rpc('Redeem')},grpc_code="OK"}`)).toBe(4);
    expect(delta(`grpc_server_handled_total{${rpc('Redeem')},grpc_code="FailedPrecondition"}`)).toBe(1);
    expect(delta(`grpc_server_handled_total{${rpc('Redeem')},grpc_code="PermissionDenied"}`)).toBe(1);
    expect(delta(`grpc_server_handled_total{${rpc('IssueVirtualCard')},grpc_code="OK"}`)).toBe(1);
    expect(delta(`grpc_server_handling_seconds_count{${rpc('Redeem')}}`)).toBe(6);
    expect(delta('giftcard_idempotent_replays_total{grpc_method="Redeem"}')).toBe(1);
    // Every RPC is on the page from the start, at zero until called.
    expect(sample(after, `grpc_server_started_total{${rpc('CombineCards')}}`)).toBe(0);
    for (const series of ['giftcard_database_up', 'process_cpu_seconds_total']) {
      expect(after).toMatch(new RegExp(`^${series} \\d`, 'm'));
    }
    // One series per pool: the unit of work's, and the single-card path's that Redeem went through.
    for (const pool of ['unit_of_work', 'card_path']) {
      expect(sample(after, `giftcard_db_pool_connections{pool="${pool}"}`)).toBe(svc.config.dbPoolSize);
      expect(sample(after, `giftcard_db_pool_in_use{pool="${pool}"}`)).toBe(0);
      expect(sample(after, `giftcard_db_pool_waiting{pool="${pool}"}`)).toBe(0);
    }
  });

  it('counts a card going into the passcode cool-down', async () => {
    const card = await issueCard(svc.api);
    const before = await scrape();
    for (let attempt = 0; attempt < svc.config.passcodeMaxAttempts; attempt++) {
      await rpcError(svc.api.balanceInquiry({ cardNumber: card.cardNumber, passcode: '00000000' }));
    }
    const lockouts = (page: string): number =>
      page.includes('giftcard_passcode_lockouts_total ') ? sample(page, 'giftcard_passcode_lockouts_total') : 0;
    expect(lockouts(await scrape()) - lockouts(before)).toBe(1);
  });

  it("shows the calls waiting in a card's line, and the single-card path's connection the transaction in flight holds", async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const redeem = () =>
      settle(svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 1n, currency: 'USD' }));
    const locker = await rawConnection();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [card.giftCardId]);
      const calls = [redeem(), redeem(), redeem()];
      // The first waits for the row inside the database, the other two in the card's line.
      await waitForLockWaits(locker, testDatabaseName(), 1);
      while (svc.service.app.cardLines.waiting() < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      const page = await scrape();
      expect(sample(page, 'giftcard_card_line_waiting_calls')).toBe(2);
      // The call waiting for the row holds one of the single-card path's connections meanwhile.
      expect(sample(page, 'giftcard_db_pool_in_use{pool="card_path"}')).toBe(1);
      await locker.query('ROLLBACK');
      expect((await Promise.all(calls)).every((outcome) => outcome.ok)).toBe(true);
    } finally {
      await locker.end();
    }
    expect(sample(await scrape(), 'giftcard_card_line_waiting_calls')).toBe(0);
  });
});

describe('Traces (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('gives one Redeem an RPC span with its two round trips under it, and the SQL each sent', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    spans.reset();
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' });
    const finished = spans.getFinishedSpans();
    const call = finished.find((span) => span.name === 'giftcard.v1.GiftCardService/Redeem');
    expect(call).toMatchObject({
      kind: SpanKind.SERVER,
      attributes: { 'rpc.method': 'Redeem', 'rpc.grpc.status_code': 0 },
    });
    const sql = finished.filter((span) => span.parentSpanContext?.spanId === call?.spanContext().spanId);
    // One span per round trip; a round trip's statements are sent as one text query.
    const roundTrips = sql.map((span) =>
      String(span.attributes['db.statement'])
        .replace(/\s+/g, ' ')
        .split('; ')
        .filter((statement) => !statement.startsWith('SET SESSION')),
    );
    expect(roundTrips).toEqual([
      [
        'START TRANSACTION',
        expect.stringMatching(/FROM gift_card WHERE number_hash = \? FOR UPDATE$/),
        expect.stringMatching(/^SELECT .* FROM passcode_failure/),
      ],
      [
        expect.stringMatching(/^INSERT INTO idempotency_record/),
        expect.stringMatching(/^UPDATE gift_card/),
        expect.stringMatching(/^INSERT INTO ledger_entry/),
        'COMMIT',
      ],
    ]);
    for (const span of sql) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.spanContext().traceId).toBe(call?.spanContext().traceId);
    }
    expect(JSON.stringify(sql.map((span) => span.attributes))).not.toContain(card.cardNumber);
  });
});

/** One BalanceInquiry as a grpc-js client sees it: the response headers (if any came) and the final status. */
function inquire(
  request: BalanceInquiryRequest,
  metadata = new Metadata(),
): Promise<{ headers: Metadata | null; status: StatusObject }> {
  return new Promise((resolve) => {
    let headers: Metadata | null = null;
    const call = svc.api.client.balanceInquiry(request, metadata, { deadline: Date.now() + 20_000 }, () => undefined);
    call.on('metadata', (received) => {
      headers = received;
    });
    call.on('status', (received) => {
      resolve({ headers, status: received });
    });
  });
}

const requestIdOf = (metadata: Metadata) => metadata.get('x-request-id')[0]?.toString();

/** The request log's lines that carry this request id. */
function callLines(requestId: string): Record<string, unknown>[] {
  return logLines.filter((line) => line.includes(requestId)).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('Request log', () => {
  it('writes one JSON line per call with method, code, duration, caller and the request id it echoes', async () => {
    const requestId = `req-${newKey()}`;
    const metadata = new Metadata();
    metadata.set('x-request-id', requestId);
    const answer = await inquire(
      BalanceInquiryRequest.fromPartial({ cardNumber: '4111111111111111', passcode: '1234' }),
      metadata,
    );
    expect(answer.status.code).toBe(status.INVALID_ARGUMENT);
    expect(requestIdOf(answer.status.metadata)).toBe(requestId);
    const lines = callLines(requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      message: 'call',
      rpc: 'BalanceInquiry',
      code: 'InvalidArgument',
      caller: 'anonymous',
      requestId,
    });
    expect(typeof lines[0]?.ms).toBe('number');
  });

  it('answers a refusal with the status alone, no headers first, so a client may still retry it', async () => {
    const answer = await inquire(
      BalanceInquiryRequest.fromPartial({ cardNumber: '4111111111111111', passcode: '1234' }),
    );
    expect(answer.status.code).toBe(status.INVALID_ARGUMENT);
    expect(answer.headers).toBeNull();
    expect(requestIdOf(answer.status.metadata)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('makes up a request id when the caller sends none, and returns it in the trailers of a success', async () => {
    const card = await issueCard(svc.api);
    const answer = await inquire(BalanceInquiryRequest.fromPartial(credentialsOf(card)));
    expect(answer.status.code).toBe(status.OK);
    const requestId = requestIdOf(answer.status.metadata);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(callLines(requestId ?? '')).toEqual([
      expect.objectContaining({ rpc: 'BalanceInquiry', code: 'OK', requestId }),
    ]);
  });

  it('writes no card number, passcode or sealed secret however the calls go', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 1n, currency: 'USD' });
    await rpcError(
      svc.api.redeem({
        idempotencyKey: newKey(),
        cardNumber: card.cardNumber,
        passcode: '99999999',
        amount: 1n,
        currency: 'USD',
      }),
    );
    const text = logLines.join('');
    expect(text).toContain('"rpc":"Redeem"');
    expect(text).not.toContain(card.cardNumber);
    expect(text).not.toContain(card.passcode);
  });
});
