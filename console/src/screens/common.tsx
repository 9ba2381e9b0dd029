// What the screens (one file each in this folder) share: the API's shapes,
// the confirmation before a destructive action, the pager, the usernames by
// uuid. Each screen offers what the caller's ACL allows (session.can) and
// nothing else as clickable; destructive actions ask first.
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, can, type Page } from '../session.js';
import { Confirm, useLoad } from '../ui.js';

export interface Tenant {
  uuid: string;
  name: string | null;
  slug: string | null;
  parent_uuid: string | null;
  domain_names: string[];
  contact: string | null;
  phone: string | null;
  default_authentication_method?: string;
  address?: Record<'line_1' | 'line_2' | 'city' | 'state' | 'country' | 'zip_code', string | null>;
}
export interface User {
  uuid: string;
  username: string | null;
  firstname: string | null;
  lastname: string | null;
  enabled: boolean;
  emails: Email[];
  tenant_uuid: string;
  purpose: string;
  authentication_method: string;
}
export interface Email {
  uuid?: string;
  address: string;
  main: boolean;
  confirmed: boolean;
}
export interface MfaFactor {
  uuid: string;
  type: string;
  name: string | null;
  confirmed: boolean;
  created_at: string;
  remaining?: number;
}
export interface Group {
  uuid: string;
  name: string;
  slug?: string;
  system_managed?: boolean;
  read_only?: boolean;
}
export interface Policy {
  uuid: string;
  name: string;
  slug: string;
  description: string | null;
  acl: string[];
  shared: boolean;
  read_only: boolean;
}
export interface Session {
  uuid: string;
  mobile: boolean;
  tenant_uuid: string;
  user_uuid: string | null;
}

type Confirming = { text: string; run: () => Promise<unknown>; action?: string } | null;

/** A confirmation dialog state, and what runs once confirmed. */
export function useConfirm(after: () => void, onError: (e: unknown) => void) {
  const [confirming, setConfirming] = useState<Confirming>(null);
  const dialog =
    confirming === null ? null : (
      <Confirm
        text={confirming.text}
        action={confirming.action}
        onCancel={() => setConfirming(null)}
        onConfirm={() => {
          const c = confirming;
          setConfirming(null);
          c.run().then(after, onError);
        }}
      />
    );
  return { ask: setConfirming, dialog };
}

export const words = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The usernames the caller can see, by uuid (sessions and audit records name users by uuid). */
export function useUserNames(tenantUuid: string | null): Map<string, string> {
  const people = useLoad(
    () =>
      can('auth.users.read') ? api<Page<User>>('GET', '/users', { query: { limit: 500, recurse: true } }) : Promise.resolve(null),
    [tenantUuid],
  );
  return new Map((people.data?.items ?? []).map((u) => [u.uuid, u.username ?? u.uuid]));
}

/** Previous and next pages of a list (the API's `filtered` count). */
export function Pager(props: { offset: number; limit: number; total: number; onOffset: (n: number) => void }) {
  const to = Math.min(props.offset + props.limit, props.total);
  return (
    <nav class="pager" aria-label={t('common.pagination')}>
      <button type="button" disabled={props.offset === 0} onClick={() => props.onOffset(Math.max(0, props.offset - props.limit))}>
        {t('common.previous')}
      </button>
      <span>{t('common.page', { from: props.total === 0 ? 0 : props.offset + 1, to, total: props.total })}</span>
      <button type="button" disabled={to >= props.total} onClick={() => props.onOffset(props.offset + props.limit)}>
        {t('common.next')}
      </button>
    </nav>
  );
}
