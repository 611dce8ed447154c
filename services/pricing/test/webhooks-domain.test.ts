import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { forbiddenAddress, readRegistration, signature } from '../src/domain/webhooks.ts';

describe('webhook rules', () => {
  it('refuses the addresses a delivery must never reach, and lets public ones through', () => {
    for (const [address, why] of [
      ['127.0.0.1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.20.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['0.0.0.0', 'unspecified'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['fd00::1', 'unique-local'],
      ['fe80::1', 'link-local'],
    ] as const) {
      expect(forbiddenAddress(address), address).toContain(why);
    }
    for (const address of ['93.184.216.34', '172.32.0.1', '2606:4700::1111']) expect(forbiddenAddress(address), address).toBeNull();
  });

  it('reads a registration, naming the field that is wrong', () => {
    expect(readRegistration({ url: 'https://hooks.example.com/prices', regions: ['us-east-1'], minPercent: 2.5 })).toEqual({
      registration: {
        url: 'https://hooks.example.com/prices',
        clouds: [],
        regions: ['us-east-1'],
        instanceFamilies: [],
        minPercent: '2.5',
      },
    });
    expect(readRegistration({ url: 'ftp://x.example.com/' })).toMatchObject({ field: 'url' });
    expect(readRegistration({ url: 'https://user:pw@x.example.com/' })).toEqual({ field: 'url', error: 'url must not carry credentials' });
    expect(readRegistration({ url: 'https://x.example.com/', regions: 'us-east-1' })).toMatchObject({ field: 'regions' });
    expect(readRegistration({ url: 'https://x.example.com/', minPercent: -1 })).toMatchObject({ field: 'minPercent' });
    expect(readRegistration([])).toMatchObject({ field: 'body' });
  });

  it('signs the timestamp and body with the secret', () => {
    const expected = createHmac('sha256', 'whsec_x').update('1700000000.{"a":1}').digest('hex');
    expect(signature('whsec_x', '1700000000', '{"a":1}')).toBe(`sha256=${expected}`);
  });
});
