// The check of a refused weights file, for assert.rejects: a PthError (or SafetensorsError) with
// its code, the file first in the message, and what was wrong matching `pattern`.
import * as assert from 'node:assert/strict';
import type { FileError } from '../../lib/base/errors';
import { PthError } from '../../lib/pth';
import { SafetensorsError } from '../../lib/safetensors';

function refusal(Kind: new (...args: never[]) => FileError, file: string, pattern: RegExp): (err: Error) => true {
  return (err) => {
    assert.ok(err instanceof Kind, `${err.name}: ${err.message}`);
    assert.equal(err.code, Kind === PthError ? 'ERR_FINETORCH_PTH' : 'ERR_FINETORCH_SAFETENSORS');
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

export function pthRefusal(file: string, pattern: RegExp): (err: Error) => true {
  return refusal(PthError, file, pattern);
}

export function safetensorsRefusal(file: string, pattern: RegExp): (err: Error) => true {
  return refusal(SafetensorsError, file, pattern);
}
