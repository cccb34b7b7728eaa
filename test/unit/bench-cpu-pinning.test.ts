import { describe, expect, it } from 'vitest';
import { pinLayout } from '../../bench/cpu-pinning.js';

/**
 * Where the processes part pins the bridge and the load (issue #16 item 4: 2 cores for the
 * bridge, the load apart). Only the layout is tested here: pinning needs the machine's CPUs.
 */
describe('pinLayout', () => {
  it('on two CPUs the bridge gets one and the load the other: two cores are only a model', () => {
    expect(pinLayout(2)).toEqual({ bridge: '1', load: '0', bridgeCpus: 1 });
  });

  it('on three CPUs or more the bridge gets two of its own and the load every other one', () => {
    expect(pinLayout(3)).toEqual({ bridge: '0-1', load: '2', bridgeCpus: 2 });
    expect(pinLayout(4)).toEqual({ bridge: '0-1', load: '2-3', bridgeCpus: 2 });
    expect(pinLayout(16)).toEqual({ bridge: '0-1', load: '2-15', bridgeCpus: 2 });
  });
});
