import { describe, expect, it } from 'vitest';
import { faultOf, otsError, serviceMessageOf } from '../../../src/state/tablestore-errors.js';

/** The SDK's err.message for a protobuf Error {code, message}: its bytes read as UTF-8, then " requestId:<id>". */
function sdkText(code: string, message: string): string {
  const field = (tag: number, s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len: number[] = [];
    for (let n = b.length; ; n >>= 7) {
      len.push(n > 0x7f ? (n & 0x7f) | 0x80 : n);
      if (n <= 0x7f) break;
    }
    return Buffer.concat([Buffer.from([tag, ...len]), b]);
  };
  return Buffer.concat([field(0x0a, code), field(0x12, message)]).toString('utf8') + ' requestId:rid-1';
}

describe("Tablestore's answers", () => {
  it.each([
    ['Request denied by instance ACL policies.'],
    ['Request denied because this instance can only be accessed from the binded VPC.'],
    ['请求被拒绝'],
    ['x'.repeat(200)],
  ])('keep the service message %#, whatever its length, without the protobuf framing', (message) => {
    expect(serviceMessageOf(sdkText('OTSAuthFailed', message), 'OTSAuthFailed')).toBe(message);
  });

  it('bound what they keep of a message, and read nothing from a body that is not an Error', () => {
    expect(serviceMessageOf(sdkText('OTSAuthFailed', 'y'.repeat(5000)), 'OTSAuthFailed')).toHaveLength(300);
    expect(serviceMessageOf('socket hang up', undefined)).toBeUndefined();
    expect(serviceMessageOf('OTSAuthFailed', 'OTSAuthFailed')).toBeUndefined();
  });

  it.each([
    ['OTSAuthFailed', 'Request denied by instance ACL policies.', 'network-acl'],
    ['OTSAuthFailed', 'Request denied because this instance can only be accessed from the binded VPC.', 'network-acl'],
    ['OTSAuthFailed', 'The instance is not found.', 'instance'],
    ['OTSAuthFailed', 'Signature mismatch.', 'credentials'],
    ['OTSAuthFailed', 'The AccessKeyID does not exist.', 'credentials'],
    ['OTSNoPermissionAccess', 'You have no permission to access the requested resource.', 'permission'],
    ['OTSObjectNotExist', 'Requested table does not exist.', 'table-missing'],
    ['OTSParameterInvalid', 'Invalid.', 'unknown'],
  ] as const)('name the fault of %s "%s": %s', (code, message, fault) => {
    expect(faultOf(code, message)).toBe(fault);
    expect(otsError('GetRange', code, { status: 403, message })).toMatchObject({
      code,
      fault,
      serviceMessage: message,
    });
  });

  it('name a fix per fault in the message, after the service code and message', () => {
    const table = otsError('BatchGetRow', 'OTSObjectNotExist', {
      status: 404,
      message: 'Requested table does not exist.',
    });
    expect(table.message).toBe(
      'Tablestore BatchGetRow was refused: OTSObjectNotExist "Requested table does not exist." (HTTP 404): the table ' +
        'does not exist: check TABLESTORE_TABLE, or create it (a run with ots:CreateTable creates it)',
    );
    expect(otsError('GetRange', 'OTSNoPermissionAccess', { status: 403 }).message).toContain('ots: actions');
    expect(otsError('GetRange', 'OTSAuthFailed', { message: 'Signature mismatch.' }).message).toContain('STS keys');
    expect(otsError('GetRange', 'OTSServerBusy', { status: 503 })).toMatchObject({
      kind: 'retryable',
      fault: 'unavailable',
    });
  });
});
