// The ONNX writer's parts without a runtime: the protobuf wire format against the examples of
// protobuf's encoding guide, the reader that finds metadata_props (hostile files included), the op
// builder's checks, BatchNorm folding, and protobuf's size limit.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { mulberry32 } from '../../lib/data/random';
import { readOnnxMetadata } from '../../lib/export';
import { foldBatchNorm, foldBatchNormIntoLinear } from '../../lib/export/batch-norm';
import { checkModelSize } from '../../lib/export/export';
import { GraphBuilder, attr } from '../../lib/export/graph';
import { encodeModel } from '../../lib/export/onnx-proto';
import { ProtoReader, WIRE } from '../../lib/export/protobuf-reader';
import { ProtoWriter } from '../../lib/export/protobuf-writer';
import { tempDir } from '../helpers/python';

const bytesOf = (w: ProtoWriter) => [...Buffer.concat(w.finish())];

function isOnnxError(file: string) {
  return (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'ERR_FINETORCH_ONNX', String(err));
    assert.ok((err as Error).message.startsWith(`${file}: `), (err as Error).message);
    return true;
  };
}

/** A small model: x [batch, 4] -> Relu -> y, one initializer, metadata. */
function tinyModel(metadata: [string, string][]): Buffer {
  const g = new GraphBuilder('tiny');
  const x = g.input('x', 'float32', ['batch', 4]);
  g.initializer('unused', { dtype: 'float32', shape: [4], data: new Float32Array([1, 2, 3, 4]) });
  g.output(g.op('Relu', [x], {}, { name: 'relu', output: 'y' }), 'float32', ['batch', 4]);
  return Buffer.concat(encodeModel({
    irVersion: 8, opset: 17, producerName: 'test', producerVersion: '0', docString: '', graph: g.build(), metadata: new Map(metadata),
  }));
}

describe('protobuf wire format', () => {
  it('writes the encoding guide\'s examples: varint 150, a string, a nested message', () => {
    assert.deepEqual(bytesOf(new ProtoWriter().int(1, 150)), [0x08, 0x96, 0x01]);
    assert.deepEqual(bytesOf(new ProtoWriter().string(2, 'testing')), [0x12, 0x07, ...Buffer.from('testing')]);
    assert.deepEqual(bytesOf(new ProtoWriter().message(3, new ProtoWriter().int(1, 150))), [0x1a, 0x03, 0x08, 0x96, 0x01]);
  });

  it('negative int64 as ten bytes of two\'s complement, 2^53 and bigints past it, floats little-endian', () => {
    assert.deepEqual(bytesOf(new ProtoWriter().int(2, -1)), [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.deepEqual(bytesOf(new ProtoWriter().int(1, -2)), [0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.deepEqual(bytesOf(new ProtoWriter().int(1, 2n ** 63n - 1n)), [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert.deepEqual(bytesOf(new ProtoWriter().float(1, 1.5)), [0x0d, 0x00, 0x00, 0xc0, 0x3f]);
    assert.throws(() => new ProtoWriter().int(1, 0.5), RangeError);
  });

  it('keeps large byte fields by reference, through nesting, and counts every byte', () => {
    const big = new Uint8Array(100_000).fill(7);
    const inner = new ProtoWriter().int(1, 1).bytes(2, big).string(3, 'after');
    const outer = new ProtoWriter().string(1, 'before').message(2, inner);
    const chunks = outer.finish();
    assert.ok(chunks.includes(big), 'the tensor bytes are the caller\'s array, not a copy');
    const all = Buffer.concat(chunks);
    assert.equal(all.length, outer.byteLength);
    const reader = new ProtoReader(all);
    assert.deepEqual(reader.tag(), { field: 1, wireType: WIRE.lengthDelimited });
    assert.equal(Buffer.from(reader.bytesField()).toString(), 'before');
    reader.tag();
    const nested = new ProtoReader(reader.bytesField());
    assert.equal(reader.done, true);
    nested.tag();
    assert.equal(nested.varint(), 1);
    nested.tag();
    assert.deepEqual(new Uint8Array(nested.bytesField()), big);
    nested.tag();
    assert.equal(Buffer.from(nested.bytesField()).toString(), 'after');
  });

  it('the reader refuses truncated varints, lengths past the end, groups and field 0; skips ten-byte varints', () => {
    const cases: [number[], RegExp][] = [
      [[0x96], /runs past the end/],
      [[0x0b], /no valid field/],
      [[0x00], /no valid field/],
      [[0x12, 0x05, 0x61], /past the end/],
      [[0x0d, 0x00], /runs past the end/],
      [[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than ten bytes/],
    ];
    for (const [bytes, message] of cases) {
      const reader = new ProtoReader(new Uint8Array(bytes));
      assert.throws(() => {
        const { wireType } = reader.tag();
        reader.skip(wireType);
      }, message, JSON.stringify(bytes));
    }
    const negative = new ProtoReader(Buffer.concat(new ProtoWriter().int(1, -1).int(2, 3).finish()));
    negative.skip(negative.tag().wireType);
    assert.deepEqual(negative.tag(), { field: 2, wireType: WIRE.varint });
    assert.equal(negative.varint(), 3);
    assert.throws(() => new ProtoReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).varint(), /over 2\^53/);
  });
});

describe('readOnnxMetadata', () => {
  const tmp = tempDir('finetorch-onnx-unit-');
  after(() => tmp.cleanup());

  it('reads metadata_props in order of the file, UTF-8 included', async () => {
    const file = path.join(tmp.dir, 'ok.onnx');
    fs.writeFileSync(file, tinyModel([['arch', 'resnet18'], ['classes', '["chat","Straße","猫"]'], ['empty', '']]));
    assert.deepEqual(await readOnnxMetadata(file), { arch: 'resnet18', classes: '["chat","Straße","猫"]', empty: '' });
  });

  it('a truncated, empty, graph-less, forged or non-UTF-8 file is an ERR_FINETORCH_ONNX naming it', async () => {
    const good = tinyModel([['arch', 'resnet18']]);
    const entry = Buffer.concat(new ProtoWriter().message(14, new ProtoWriter().string(1, 'k').bytes(2, new Uint8Array([0xc3, 0x28]))).finish());
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['truncated', good.subarray(0, good.length - 3)],
      ['no-graph', Buffer.concat(new ProtoWriter().int(1, 8).message(14, new ProtoWriter().string(1, 'a').string(2, 'b')).finish())],
      ['huge-length', Buffer.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f])],
      ['text', Buffer.from('not a model at all\n')],
      ['bad-utf8', Buffer.concat([good, entry])],
    ];
    for (const [name, bytes] of cases) {
      const file = path.join(tmp.dir, `${name}.onnx`);
      fs.writeFileSync(file, bytes);
      await assert.rejects(readOnnxMetadata(file), isOnnxError(file), name);
    }
  });

  it('2,000 mutants of a model (bytes flipped, cut, inserted): each read succeeds or is an ERR_FINETORCH_ONNX', async () => {
    const good = tinyModel([['arch', 'resnet18'], ['preprocessing', '{"resize":[256,256]}']]);
    const rng = mulberry32(25);
    const file = path.join(tmp.dir, 'mutant.onnx');
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      let bytes = Buffer.from(good);
      const at = Math.floor(rng.next() * bytes.length);
      const kind = i % 3;
      if (kind === 0) bytes[at] = Math.floor(rng.next() * 256);
      else if (kind === 1) bytes = bytes.subarray(0, at);
      else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([Math.floor(rng.next() * 256)]), bytes.subarray(at)]);
      fs.writeFileSync(file, bytes);
      await readOnnxMetadata(file).catch((err: unknown) => {
        isOnnxError(file)(err);
        refused++;
      });
    }
    assert.ok(refused > 100, `${refused} refused: the mutants reach the checks`);
  });
});

describe('the op builder', () => {
  it('names repeated nodes name, name_1, ...; refuses unknown inputs, a name given twice, an output no node makes', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'float32', [1]);
    assert.equal(g.op('Relu', [x], {}, { name: 'relu' }), 'relu');
    assert.equal(g.op('Relu', ['relu'], {}, { name: 'relu' }), 'relu_1');
    assert.equal(g.op('Relu', ['relu_1'], {}, { name: 'relu' }), 'relu_2');
    const code = { code: 'ERR_FINETORCH_ONNX' };
    assert.throws(() => g.op('Add', [x, 'nothing'], {}, { name: 'add' }), { ...code, message: /node 'add' \(Add\) reads 'nothing'/ });
    assert.throws(() => g.initializer('x', { dtype: 'float32', shape: [1], data: new Float32Array(1) }), { ...code, message: /'x' is given twice/ });
    assert.throws(() => g.output('x', 'float32', [1]), { ...code, message: /made by no node/ });
    assert.throws(() => new GraphBuilder('empty').build(), { ...code, message: /no output/ });
    g.output('relu_2', 'float32', [1]);
    const built = g.build();
    assert.deepEqual(built.nodes.map((n) => [n.name, n.inputs, n.outputs]), [
      ['relu', ['x'], ['relu']], ['relu_1', ['relu'], ['relu_1']], ['relu_2', ['relu_1'], ['relu_2']],
    ]);
    assert.deepEqual(attr.ints([1, 2]), { type: 'ints', value: [1, 2] });
  });
});

describe('BatchNorm folding', () => {
  it('conv then BatchNorm equals the folded conv (weights scaled in place), channel by channel', () => {
    // Two output channels, two inputs, a 1x1 kernel: conv(x)[c] = sum_i W[c][i] x[i].
    const convWeight = { dtype: 'float32' as const, shape: [2, 2, 1, 1], data: new Float32Array([1, -2, 0.5, 3]) };
    const bn = {
      weight: new Float32Array([2, 0.5]), bias: new Float32Array([0.25, -1]),
      runningMean: new Float32Array([0.5, -0.75]), runningVar: new Float32Array([4, 0.25]), eps: 1e-5,
    };
    const original = convWeight.data.slice();
    const bias = foldBatchNorm(convWeight, bn);
    const weight = convWeight;
    assert.deepEqual(bias.shape, [2]);
    const x = [0.3, -1.7];
    for (let c = 0; c < 2; c++) {
      const conv = original[2 * c] * x[0] + original[2 * c + 1] * x[1];
      const expected = ((conv - bn.runningMean[c]) * bn.weight[c]) / Math.sqrt(bn.runningVar[c] + bn.eps) + bn.bias[c];
      const folded = weight.data[2 * c] * x[0] + weight.data[2 * c + 1] * x[1] + bias.data[c];
      assert.ok(Math.abs(folded - expected) < 1e-6, `channel ${c}: ${folded} vs ${expected}`);
    }
  });

  it("BatchNorm(affine=False) then a Linear equals the folded Linear (MAE's probe head), output by output", () => {
    // Two outputs, three features: linear(z)[o] = sum_i W[o][i] z[i] + b[o], z = (x - mean) / sqrt(var + eps).
    const weight = { dtype: 'float32' as const, shape: [2, 3], data: new Float32Array([1, -2, 0.5, 3, 0.25, -1]) };
    const bias = { dtype: 'float32' as const, shape: [2], data: new Float32Array([0.125, -0.5]) };
    const bn = { runningMean: new Float32Array([0.5, -0.75, 2]), runningVar: new Float32Array([4, 0.25, 9]), eps: 1e-6 };
    const [w, b] = [weight.data.slice(), bias.data.slice()];
    foldBatchNormIntoLinear(weight, bias, bn);
    const x = [0.3, -1.7, 2.5];
    const z = x.map((v, i) => (v - bn.runningMean[i]) / Math.sqrt(bn.runningVar[i] + bn.eps));
    for (let o = 0; o < 2; o++) {
      const expected = z.reduce((sum, v, i) => sum + w[3 * o + i] * v, b[o]);
      const folded = x.reduce((sum, v, i) => sum + weight.data[3 * o + i] * v, bias.data[o]);
      assert.ok(Math.abs(folded - expected) < 1e-6, `output ${o}: ${folded} vs ${expected}`);
    }
    const mismatched = { ...bn, runningMean: new Float32Array(2), runningVar: new Float32Array(2) };
    assert.throws(() => foldBatchNormIntoLinear(weight, bias, mismatched), { code: 'ERR_FINETORCH_ONNX', message: /a BatchNorm of 2 features before a Linear \[2, 3\]/ });
  });
});

it('a model past protobuf\'s 2 GiB - 1 is refused before it is written', () => {
  checkModelSize(2 ** 31 - 1, 'big.onnx');
  assert.throws(() => checkModelSize(2 ** 31, 'big.onnx'), { code: 'ERR_FINETORCH_ONNX', message: /^big\.onnx: the model is 2147483648 bytes, over/ });
});
