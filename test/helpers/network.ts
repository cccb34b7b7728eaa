import { createNetworkPolicy } from '../../src/core/network-policy.js';

/** The network policy of a development bridge: loopback (where every test service lives) allowed. */
export const developmentPolicy = createNetworkPolicy({ production: false });
