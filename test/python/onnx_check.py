"""ONNX side of the export tests: Python's onnx and onnxruntime judge finetorch's files.

check JOB.json REPORT.json
    JOB: {"models": [{"file": F, "runs": [{"input": X.f32, "shape": [N, 3, H, W], "output": Y.f32}]}]}.
    For each model: onnx.checker.check_model(full_check=True) (an exception fails the run), then
    ONNX Runtime (CPU, one thread) on each input, the logits written as raw float32. REPORT gets,
    per model, what the test asserts on: whether onnx re-serialises the file byte for byte, the IR
    version and the lowest one onnx allows for its opset, the opset, the input and output names and
    shapes, the op types used, and metadata_props.
tiny OUT.onnx
    Runs the small hand-built graph the encoder test writes (Reshape by an int64 initializer,
    Softmax on axis -1) and prints {"output": [...], "expected": [...]} (numpy's softmax).
"""
import collections
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def dims(value_info):
    return [d.dim_param if d.HasField('dim_param') else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def check(job_file, report_file):
    with open(job_file) as f:
        job = json.load(f)
    report = []
    for entry in job['models']:
        with open(entry['file'], 'rb') as f:
            data = f.read()
        model = onnx.load_from_string(data)
        onnx.checker.check_model(model, full_check=True)
        opset = next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))
        sess = session(entry['file'])
        input_name = sess.get_inputs()[0].name
        for run in entry['runs']:
            x = np.fromfile(run['input'], dtype=np.float32).reshape(run['shape'])
            (logits,) = sess.run(None, {input_name: x})
            logits.astype(np.float32).tofile(run['output'])
        report.append({
            'file': entry['file'],
            'canonical': model.SerializeToString() == data,
            'irVersion': model.ir_version,
            'minIrVersion': onnx.helper.find_min_ir_version_for([onnx.helper.make_opsetid('', opset)]),
            'opset': opset,
            'producer': [model.producer_name, model.producer_version],
            'inputs': [[i.name, dims(i)] for i in model.graph.input],
            'outputs': [[o.name, dims(o)] for o in model.graph.output],
            'ops': dict(collections.Counter(n.op_type for n in model.graph.node)),
            'metadata': {p.key: p.value for p in model.metadata_props},
        })
    with open(report_file, 'w') as f:
        json.dump(report, f)


def tiny(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10
    (y,) = session(path).run(None, {'x': x})
    flat = x.reshape(-1, 12)
    e = np.exp(flat - flat.max(axis=-1, keepdims=True))
    expected = e / e.sum(axis=-1, keepdims=True)
    with open(path, 'rb') as f:
        canonical = model.SerializeToString() == f.read()
    print(json.dumps({'output': y.ravel().tolist(), 'expected': expected.ravel().tolist(), 'canonical': canonical}))


if __name__ == '__main__':
    command = sys.argv[1]
    if command == 'check':
        check(sys.argv[2], sys.argv[3])
    elif command == 'tiny':
        tiny(sys.argv[2])
    else:
        sys.exit(f'unknown command {command}')
