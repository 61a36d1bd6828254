// Error assertions: the class and the ERR_FINETORCH_* code a call must fail with.
import * as assert from 'node:assert/strict';

/** For assert.throws / assert.rejects: an error of class `Kind` carrying `code`. */
export function assertCode(code: string, Kind: ErrorConstructor | typeof TypeError = Error) {
  return (err: unknown) => {
    assert.ok(err instanceof Kind, `expected a ${Kind.name}, got ${String(err)}`);
    assert.equal((err as { code?: string }).code, code, String(err));
    return true;
  };
}
