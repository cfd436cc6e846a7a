import { checkEventLine, checkMetadataLine, type LineVerdict, rumV2, rumV3 } from '../../../../proxy/intake/line-check';
import { v3Error, v3Metadata, v3Transaction } from '../../../support/rum-payloads';

const line = (value: unknown): string => JSON.stringify(value);
const messageOf = (verdict: LineVerdict): string => (verdict.ok ? 'accepted' : verdict.message);

describe('RUM v3 line rules', () => {
  it('accepts the minified metadata, a transaction with nested spans and metricsets, and an error', () => {
    expect(checkMetadataLine(line(v3Metadata()), true, rumV3)).toMatchObject({ ok: true, kind: 'm' });
    expect(checkEventLine(line(v3Transaction()), rumV3)).toMatchObject({ ok: true, kind: 'x' });
    expect(checkEventLine(line(v3Error()), rumV3)).toMatchObject({ ok: true, kind: 'e' });
  });

  it("takes each route's own metadata key and event types", () => {
    expect(checkMetadataLine(line({ metadata: {} }), true, rumV3)).toMatchObject({
      ok: false,
      message: '"metadata" or "m" required',
    });
    expect(checkMetadataLine(line(v3Metadata()), true, rumV2)).toMatchObject({
      ok: false,
      message: '"metadata" or "m" required',
    });
    expect(checkEventLine(line({ transaction: {} }), rumV3)).toMatchObject({
      ok: false,
      message: 'did not recognize object type: "transaction"',
    });
    expect(checkEventLine(line({ log: { message: 'x' } }), rumV2)).toMatchObject({
      ok: false,
      message: 'did not recognize object type: "log"',
    });
  });

  it('refuses what the rumv3 model requires', () => {
    const noAgentVersion = v3Metadata();
    const se = (noAgentVersion.m as { se: { a: Record<string, unknown> } }).se;
    delete se.a.ve;
    expect(messageOf(checkMetadataLine(line(noAgentVersion), true, rumV3))).toContain("'ve' required");

    const tx = v3Transaction() as { x: Record<string, unknown> };
    delete tx.x.yc;
    expect(messageOf(checkEventLine(line(tx), rumV3))).toContain("'yc' required");

    const span = v3Transaction() as { x: { y: Array<Record<string, unknown>> } };
    delete span.x.y[0]?.s;
    expect(messageOf(checkEventLine(line(span), rumV3))).toContain("'s' required");

    const negative = v3Transaction() as { x: Record<string, unknown> };
    negative.x.d = -1;
    expect(messageOf(checkEventLine(line(negative), rumV3))).toContain("'d': validation rule 'min(0)' violated");

    const err = v3Error() as { e: Record<string, unknown> };
    delete err.e.ex;
    expect(checkEventLine(line(err), rumV3)).toMatchObject({ ok: false });

    const frame = v3Error() as { e: { ex: { st: Array<Record<string, unknown>> } } };
    delete frame.e.ex.st[0]?.f;
    expect(messageOf(checkEventLine(line(frame), rumV3))).toContain("'f' required");
  });

  it('words a wrong type as the rumv3 decoder does', () => {
    const tx = v3Transaction() as { x: Record<string, unknown> };
    tx.x.id = 17;
    expect(checkEventLine(line(tx), rumV3)).toMatchObject({
      ok: false,
      message:
        'decode error: data read error: rumv3.transactionRoot.Transaction: ' +
        'rumv3.transaction.ID: ReadString: expects " or n,',
    });
  });
});
