// How Python values from a .pth file look in JavaScript, and back.
//
//   None -> null, bool -> boolean, str -> string, float -> number,
//   int -> number when it is a safe integer, otherwise bigint,
//   list -> array, tuple -> frozen array (Object.isFrozen), dict and OrderedDict -> Map
//   (keys of any type, insertion order kept; a Map rather than a plain object so that keys
//   such as "__proto__" from an untrusted file stay plain data), tensor/Parameter -> HostTensor,
//   a bare storage -> 1-D HostTensor of its elements.
//
// Saving takes the same tree, plus plain objects: Map -> OrderedDict, plain object -> dict,
// array -> list, frozen array -> tuple, integer number or bigint -> int, other number -> float.
// Python has no int/float distinction in JS numbers: a float 2.0 reads back as 2 and saves as int.
import { HostTensor, isDType } from '../base/tensor';

export type PthValue =
  | null | boolean | number | bigint | string | HostTensor
  | readonly PthValue[]
  | Map<PthValue, PthValue>;

/** What savePth accepts: PthValue trees in which plain objects may stand for dicts. */
export type PthSavable =
  | PthValue
  | readonly PthSavable[]
  | Map<PthValue, PthSavable>
  | { readonly [key: string]: PthSavable };

/** A state dict: parameter and buffer names -> tensors, in the model's order. */
export type StateDict = Map<string, HostTensor>;

export function isHostTensor(value: unknown): value is HostTensor {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Partial<HostTensor>;
  return isDType(t.dtype) && Array.isArray(t.shape) && ArrayBuffer.isView(t.data);
}

/** "a dict", "a tensor", "an int"…: for error messages about values of the wrong kind. */
export function describeKind(value: unknown): string {
  if (value === null) return 'None';
  if (value === undefined) return 'nothing';
  if (isHostTensor(value)) return 'a tensor';
  if (value instanceof Map) return 'a dict';
  if (Array.isArray(value)) return Object.isFrozen(value) ? 'a tuple' : 'a list';
  switch (typeof value) {
    case 'number': return Number.isInteger(value) ? 'an int' : 'a float';
    case 'bigint': return 'an int';
    case 'string': return 'a str';
    case 'boolean': return 'a bool';
    default: return `a ${(value as object).constructor?.name ?? typeof value}`;
  }
}
