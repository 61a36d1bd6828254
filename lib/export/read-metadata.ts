// An ONNX file's metadata_props (ModelProto field 14), read without parsing the graph: ONNX Runtime's
// JavaScript API does not show them, and a server needs them to prepare images as the model expects.
// The top-level fields are walked with positional reads, so the weights (hundreds of MB in the graph
// field) are skipped, not read.
import * as fs from 'node:fs/promises';
import { FinetorchError } from '../base/errors';
import { ProtoReader, WIRE } from './protobuf-reader';

const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
/** Metadata beyond this is taken for a forgery: a class list of 100,000 long names is a few MB. */
const MAX_METADATA_BYTES = 64 * 2 ** 20;
/** A field header and a length: two varints of at most ten bytes. */
const HEADER_BYTES = 20;

/** The metadata_props of the ONNX model in `file`, key -> value (finetorch's keys: see exportOnnx). */
export async function readOnnxMetadata(file: string): Promise<Record<string, string>> {
  const fail = (detail: string, cause?: unknown) => new FinetorchError('ERR_FINETORCH_ONNX', `${file}: not a readable ONNX model: ${detail}`, { cause });
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const read = async (position: number, length: number): Promise<Uint8Array> => {
      const bytes = new Uint8Array(length);
      const { bytesRead } = await handle.read(bytes, 0, length, position);
      if (bytesRead !== length) throw fail(`the file ended while reading offset ${position}`);
      return bytes;
    };
    const metadata: Record<string, string> = {};
    let metadataBytes = 0;
    let sawGraph = false;
    for (let position = 0; position < size;) {
      const header = new ProtoReader(await read(position, Math.min(HEADER_BYTES, size - position)));
      let field: number;
      let wireType: number;
      let length = 0;
      try {
        ({ field, wireType } = header.tag());
        if (wireType === WIRE.lengthDelimited) length = header.varint();
        else header.skip(wireType);
      } catch (err) {
        throw fail(`at offset ${position}: ${(err as Error).message}`, err);
      }
      const start = position + header.position;
      if (length > size - start) throw fail(`field ${field} at offset ${position} declares ${length} bytes, past the end of the file`);
      if (field === MODEL_GRAPH && wireType === WIRE.lengthDelimited) sawGraph = true;
      if (field === MODEL_METADATA_PROPS && wireType === WIRE.lengthDelimited) {
        metadataBytes += length;
        if (metadataBytes > MAX_METADATA_BYTES) throw fail(`metadata_props over ${MAX_METADATA_BYTES} bytes`);
        const [key, value] = readEntry(await read(start, length), (detail) => fail(`metadata entry at offset ${position}: ${detail}`));
        metadata[key] = value;
      }
      position = start + length;
    }
    if (!sawGraph) throw fail('it has no graph');
    return metadata;
  } finally {
    await handle.close();
  }
}

/** A StringStringEntryProto: key (1) and value (2). */
function readEntry(bytes: Uint8Array, fail: (detail: string) => Error): [string, string] {
  const text = new TextDecoder('utf-8', { fatal: true });
  const reader = new ProtoReader(bytes);
  let key = '';
  let value = '';
  try {
    while (!reader.done) {
      const { field, wireType } = reader.tag();
      if ((field === 1 || field === 2) && wireType === WIRE.lengthDelimited) {
        const decoded = text.decode(reader.bytesField());
        if (field === 1) key = decoded;
        else value = decoded;
      } else {
        reader.skip(wireType);
      }
    }
  } catch (err) {
    throw fail((err as Error).message);
  }
  return [key, value];
}
