// The reference Python and temporary folders for the tests: scripts/reference-python.ts, which the
// benchmarks use too.
export { PYTHON_DIR, readFloat32, runPython, tempDir } from '../../scripts/reference-python';
