// Ids of the store's singleton objects (swarmkit keeps one cluster object and one set of tokens).
export const CLUSTER_ID_KEY = 'cluster';
export const TOKENS_ID = 'tokens';
