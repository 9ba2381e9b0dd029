// The store's typed errors live beside the domains that handle them
// (../storage-errors.ts); re-exported for the store's own modules.
export * from '../storage-errors.js';
