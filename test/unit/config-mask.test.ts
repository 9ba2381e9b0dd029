import { describe, it, expect } from 'vitest';
import { maskSecrets, maskUriPassword, isSecretKey } from '../../src/config/mask.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import type { Config } from '../../src/config/types.js';

describe('maskSecrets', () => {
  const config: Config = {
    ...structuredClone(DEFAULT_CONFIG),
    db_uri: 'postgresql://u:secret@h/db',
    bootstrap_user_password: 'hunter2',
    rest_api: { ...structuredClone(DEFAULT_CONFIG.rest_api), certificate: '/c.pem', private_key: '/k.pem' },
    amqp: { ...DEFAULT_CONFIG.amqp, uri: 'amqp://bus:buspw@rabbit:5672/' },
  };

  it('replaces secrets and URI passwords, keeps everything else', () => {
    const masked = maskSecrets(config) as unknown as Config;
    expect(masked.db_uri).toBe('postgresql://u:********@h/db');
    expect(masked.amqp.uri).toBe('amqp://bus:********@rabbit:5672/');
    expect(masked.bootstrap_user_password).toBe('********');
    expect(masked.rest_api.private_key).toBe('********');
    expect(masked.rest_api.certificate).toBe('/c.pem');
    expect(masked.rest_api.port).toBe(9497);
    expect(masked.bootstrap_user_username).toBe('admin');
    expect(masked.rest_api.cors.allow_headers).toEqual(DEFAULT_CONFIG.rest_api.cors.allow_headers);
    expect(JSON.stringify(masked)).not.toMatch(/secret|hunter2|buspw|k\.pem/);
  });

  it('is a deep copy and leaves the input alone', () => {
    const masked = maskSecrets(config) as unknown as Config;
    expect(config.bootstrap_user_password).toBe('hunter2');
    expect(config.db_uri).toBe('postgresql://u:secret@h/db');
    expect(masked.rest_api).not.toBe(config.rest_api);
    expect(masked.rest_api.cors.allow_origins).not.toBe(config.rest_api.cors.allow_origins);
  });

  it('keeps null secrets visible as null', () => {
    const masked = maskSecrets(DEFAULT_CONFIG) as unknown as Config;
    expect(masked.bootstrap_user_password).toBeNull();
    expect(masked.rest_api.private_key).toBeNull();
    expect(masked.amqp.uri).toBe('amqp://guest:********@localhost:5672/');
  });

  it('masks secret keys anywhere, including unknown plugin sections', () => {
    const masked = maskSecrets({
      ldap: { bind_password: 'x', token: 't', secret: { deep: 1 }, uri: 'ldap://cn:pw@dir' },
      list: [{ password: 'p' }],
    });
    expect(masked).toEqual({
      ldap: { bind_password: '********', token: '********', secret: '********', uri: 'ldap://cn:********@dir' },
      list: [{ password: '********' }],
    });
  });

  it.each([
    ['password', true],
    ['bootstrap_user_password', true],
    ['private_key', true],
    ['secret', true],
    ['token', true],
    ['client_secret', true],
    ['default_token_lifetime', false],
    ['token_cleanup_interval', false],
    ['bootstrap_user_username', false],
    ['certificate', false],
  ])('isSecretKey(%s) = %s', (key, secret) => {
    expect(isSecretKey(key)).toBe(secret);
  });
});

describe('maskUriPassword', () => {
  it.each([
    ['postgresql://u:secret@h/db', 'postgresql://u:********@h/db'],
    ['postgresql://u:secret@h:5432/db?sslmode=require', 'postgresql://u:********@h:5432/db?sslmode=require'],
    ['postgresql://u:p@ss@h/db', 'postgresql://u:********@h/db'],
    ['postgresql://u:p/ss@h/db', 'postgresql://u:********@h/db'],
    ['postgresql://u@h/db', 'postgresql://u@h/db'],
    ['postgresql://h/db?user=u&password=pw&x=1', 'postgresql://h/db?user=u&password=********&x=1'],
    ['postgresql://h/db@x', 'postgresql://h/db@x'],
    ['sqlite:/var/lib/xivo-auth/db.sqlite', 'sqlite:/var/lib/xivo-auth/db.sqlite'],
    ['amqp://guest:guest@localhost:5672/', 'amqp://guest:********@localhost:5672/'],
    ['just text: with colon @ at', 'just text: with colon @ at'],
  ])('%s → %s', (input, output) => {
    expect(maskUriPassword(input)).toBe(output);
  });
});
