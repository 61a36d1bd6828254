// dist's side that needs neither a job nor the addon: torchrun's variables read and checked.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobFromEnv } from '../../lib/dist/environment';

const BASE = { RANK: '1', WORLD_SIZE: '2', MASTER_ADDR: '10.0.0.1', MASTER_PORT: '29500' };

describe('dist without a job', () => {
  it("reads torchrun's variables, the agent store's and GLOO_SOCKET_IFNAME included", () => {
    assert.deepEqual(jobFromEnv(BASE), { rank: 1, worldSize: 2, localRank: 0, masterAddr: '10.0.0.1', masterPort: 29500, agentStorePrefix: undefined, interfaces: [] });
    const torchrun = jobFromEnv({ ...BASE, LOCAL_RANK: '1', TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '2', GLOO_SOCKET_IFNAME: 'eth0,eth1' });
    assert.equal(torchrun.agentStorePrefix, '/worker/attempt_2');
    assert.equal(torchrun.localRank, 1);
    assert.deepEqual(torchrun.interfaces, ['eth0', 'eth1']);
  });

  it('says which variable is missing or wrong', () => {
    assert.throws(() => jobFromEnv({ ...BASE, RANK: undefined }), { code: 'ERR_FINETORCH_DIST', message: /RANK is not set: start the ranks with `finetorch train --nproc-per-node N`, torchrun/ });
    assert.throws(() => jobFromEnv({ ...BASE, RANK: '2' }), /RANK must be an integer below WORLD_SIZE \(2\), got '2'/);
    assert.throws(() => jobFromEnv({ ...BASE, MASTER_PORT: 'http' }), /MASTER_PORT must be a port number, got 'http'/);
    assert.throws(() => jobFromEnv({ ...BASE, MASTER_ADDR: '' }), /MASTER_ADDR is not set/);
  });
});
