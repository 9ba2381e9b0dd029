// The database budget's async context is on only while a budget is in
// flight (src/db-budget.ts): while it is on, Node runs an init hook on every
// async resource of the process, token checks answered from the cache
// included.
import { executionAsyncResource } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import {
  currentDbBudget,
  dbAllowance,
  dbBudgetsInFlight,
  outsideDbBudget,
  withDbBudget,
  withLongDbBudget,
} from '../../src/db-budget.js';

/**
 * Whether an async resource created now gets an AsyncLocalStorage's store
 * slot: Node 20's AsyncLocalStorage copies its store onto every new
 * resource (a symbol-keyed property) for as long as it is enabled.
 */
function newResourceCarriesContext(): Promise<boolean> {
  return new Promise((resolve) =>
    setImmediate(() =>
      resolve(Object.getOwnPropertySymbols(executionAsyncResource()).some((s) => s.description === 'kResourceStore')),
    ),
  );
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the database budget context', () => {
  it('is off once the last budget has ended, and on again for the next one', async () => {
    expect(dbBudgetsInFlight()).toBe(0);
    await withDbBudget(async () => {
      expect(dbBudgetsInFlight()).toBe(1);
      expect(await newResourceCarriesContext()).toBe(true);
      expect(currentDbBudget()).not.toBeNull();
    });
    expect(dbBudgetsInFlight()).toBe(0);
    expect(await newResourceCarriesContext()).toBe(false);
    expect(currentDbBudget()).toBeNull();

    // Switched back on by the next budget, which propagates across awaits as before.
    await withDbBudget(async () => {
      await tick();
      const budget = currentDbBudget();
      expect(budget).not.toBeNull();
      budget?.charge(400);
      await tick();
      expect(dbAllowance(1000)).toBe(600);
    });
    expect(await newResourceCarriesContext()).toBe(false);
  });

  it('stays on while another budget is in flight', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const long = withDbBudget(async () => {
      currentDbBudget()?.charge(250);
      await held;
      // The other budget ended meanwhile: this one still has its own context.
      return dbAllowance(1000);
    });
    await withDbBudget(async () => {
      await tick();
      expect(dbBudgetsInFlight()).toBe(2);
    });
    expect(dbBudgetsInFlight()).toBe(1);
    expect(await newResourceCarriesContext()).toBe(true);
    release();
    expect(await long).toBe(750);
    expect(dbBudgetsInFlight()).toBe(0);
  });

  it('leaves work that outlives its budget with the plain timeout once the context is off', async () => {
    let later!: Promise<number>;
    await withDbBudget(async () => {
      currentDbBudget()?.charge(900);
      later = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return dbAllowance(1000);
      })();
    });
    expect(dbBudgetsInFlight()).toBe(0);
    expect(await later).toBe(1000);
  });

  it('counts a long job as a budget until it settles, failing or not', async () => {
    await expect(
      withLongDbBudget(60_000, async () => {
        await tick();
        expect(dbBudgetsInFlight()).toBe(1);
        expect(dbAllowance(1000)).toBe(60_000);
        throw new Error('migration failed');
      }),
    ).rejects.toThrow('migration failed');
    expect(dbBudgetsInFlight()).toBe(0);
    expect(await newResourceCarriesContext()).toBe(false);
  });

  it('runs work outside the budget with the timeout, and keeps the request budget after it', async () => {
    await withDbBudget(async () => {
      currentDbBudget()?.charge(300);
      expect(outsideDbBudget(() => dbAllowance(1000))).toBe(1000);
      await tick();
      expect(dbAllowance(1000)).toBe(700);
    });
    expect(dbBudgetsInFlight()).toBe(0);
  });
});
