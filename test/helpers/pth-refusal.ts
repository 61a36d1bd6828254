// The check of a refused .pth file, for assert.rejects: a PthError with its code, the file first
// in the message, and what was wrong matching `pattern`.
import * as assert from 'node:assert/strict';
import { PthError } from '../../lib/pth';

export function pthRefusal(file: string, pattern: RegExp): (err: Error) => true {
  return (err) => {
    assert.ok(err instanceof PthError, `${err.name}: ${err.message}`);
    assert.equal(err.code, 'ERR_FINETORCH_PTH');
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.match(err.message, pattern);
    return true;
  };
}
