export * from '../db-budget.js';
