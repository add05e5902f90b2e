import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, backends, seedDevice, startApp, type TestApp } from './helpers/harness.ts';

/** Asserts the platform error envelope and returns it. */
function expectError(r: { status: number; body: any; text: string }, status: number, code?: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.body, r.text).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  if (code) expect(r.body.error.code).toBe(code);
  return r.body.error as { code: string; message: string };
}

async function login(t: TestApp, email: string, password: string) {
  return t.api('POST', '/api/v1/auth/login', { email, password }, null);
}

describe.each(backends())('platform API on $name', (backend) => {
  describe('first-run setup', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(backend, { noAdmin: true });
    });
    afterAll(async () => {
      await t.close();
    });

    it('reports setup as needed, creates the admin once, then refuses with 409', async () => {
      const before = await t.api('GET', '/api/v1/setup', undefined, null);
      expect(before.status).toBe(200);
      expect(before.body).toEqual({ needed: true });

      // Validation first: a missing field names the field.
      const bad = await t.api('POST', '/api/v1/setup', { email: 'root@example.com', password: 'longenough' }, null);
      expect(expectError(bad, 400, 'VALIDATION_FAILED').message).toContain('organization');

      const r = await t.api(
        'POST',
        '/api/v1/setup',
        { email: 'root@example.com', password: 'correct horse', organization: 'Acme' },
        null,
      );
      expect(r.status, r.text).toBe(201);
      expect(r.body.token).toEqual(expect.any(String));
      expect(r.body.user).toMatchObject({ id: expect.any(Number), email: 'root@example.com', role: 'admin' });

      // The token works.
      const me = await t.api('GET', '/api/v1/auth/me', undefined, r.body.token);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ email: 'root@example.com', role: 'admin', organization: 'Acme' });

      expect((await t.api('GET', '/api/v1/setup', undefined, null)).body).toEqual({ needed: false });
      const again = await t.api(
        'POST',
        '/api/v1/setup',
        { email: 'other@example.com', password: 'correct horse', organization: 'Evil' },
        null,
      );
      expectError(again, 409, 'SETUP_DONE');
      // The second call created nobody.
      expectError(await login(t, 'other@example.com', 'correct horse'), 401, 'INVALID_CREDENTIALS');
      expect((await login(t, 'root@example.com', 'correct horse')).status).toBe(200);
    });
  });

  describe('login throttling', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(backend);
    });
    afterAll(async () => {
      await t.close();
    });

    it('blocks an address after 5 failures, even for the right password', async () => {
      for (let i = 0; i < 5; i++) {
        expectError(await login(t, ADMIN.email, `wrong-${i}`), 401, 'INVALID_CREDENTIALS');
      }
      const sixth = await login(t, ADMIN.email, ADMIN.password);
      expectError(sixth, 429, 'TOO_MANY_ATTEMPTS');
      // Existing sessions are unaffected.
      expect((await t.api('GET', '/api/v1/auth/me')).status).toBe(200);
    });
  });

  describe('with an admin', () => {
    let t: TestApp;
    let fakeNow: number | undefined;
    beforeAll(async () => {
      t = await startApp(backend, { overrides: { clock: () => fakeNow ?? Date.now() } });
    });
    afterAll(async () => {
      await t.close();
    });

    describe('auth', () => {
      it('logs in with the documented shape and rejects bad credentials', async () => {
        const r = await login(t, ADMIN.email, ADMIN.password);
        expect(r.status).toBe(200);
        expect(r.body).toEqual({
          token: expect.any(String),
          user: { id: expect.any(Number), email: ADMIN.email, role: 'admin' },
        });
        expect((await t.api('GET', '/api/v1/templates', undefined, r.body.token)).status).toBe(200);
        expectError(await login(t, ADMIN.email, 'not the password'), 401, 'INVALID_CREDENTIALS');
        expectError(await login(t, 'nobody@example.com', ADMIN.password), 401, 'INVALID_CREDENTIALS');
        // A success clears the failure count, so these two failures do not add up later.
        expect((await login(t, ADMIN.email, ADMIN.password)).status).toBe(200);
      });

      it('requires a token on /api/v1 routes', async () => {
        expectError(await t.api('GET', '/api/v1/templates', undefined, null), 401, 'UNAUTHORIZED');
        expectError(await t.api('GET', '/api/v1/devices', undefined, 'pws_not-a-real-token'), 401, 'UNAUTHORIZED');
        const r = await fetch(`${t.url}/api/v1/devices`, { headers: { authorization: 'Basic abc' } });
        expect(r.status).toBe(401);
        // A query token is not accepted outside the WebSocket.
        const q = await fetch(`${t.url}/api/v1/devices?token=${t.adminToken}`);
        expect(q.status).toBe(401);
      });

      it('logout ends the session', async () => {
        const { body } = await login(t, ADMIN.email, ADMIN.password);
        expect((await t.api('POST', '/api/v1/auth/logout', undefined, body.token)).status).toBe(204);
        expectError(await t.api('GET', '/api/v1/auth/me', undefined, body.token), 401, 'UNAUTHORIZED');
        expect((await t.api('GET', '/api/v1/auth/me')).status).toBe(200);
      });

      it('creates, lists and revokes API tokens', async () => {
        const c = await t.api('POST', '/api/v1/api-tokens', { name: 'ci' });
        expect(c.status, c.text).toBe(201);
        expect(c.body).toEqual({ id: expect.any(Number), name: 'ci', token: expect.any(String) });
        const secret = c.body.token as string;

        const me = await t.api('GET', '/api/v1/auth/me', undefined, secret);
        expect(me.status).toBe(200);
        expect(me.body.email).toBe(ADMIN.email);

        expectError(await t.api('POST', '/api/v1/api-tokens', { name: 'ci' }), 409, 'CONFLICT');
        expect(expectError(await t.api('POST', '/api/v1/api-tokens', {}), 400, 'VALIDATION_FAILED').message).toContain(
          'name',
        );

        const list = await t.api('GET', '/api/v1/api-tokens');
        expect(list.status).toBe(200);
        expect(list.body.items.map((i: { name: string }) => i.name)).toContain('ci');
        expect(list.text).not.toContain(secret);
        for (const item of list.body.items) expect(item).not.toHaveProperty('token');

        expect((await t.api('DELETE', `/api/v1/api-tokens/${c.body.id}`)).status).toBe(204);
        expectError(await t.api('GET', '/api/v1/auth/me', undefined, secret), 401, 'UNAUTHORIZED');
        expectError(await t.api('DELETE', `/api/v1/api-tokens/${c.body.id}`), 404, 'NOT_FOUND');
        expect(
          (await t.api('GET', '/api/v1/api-tokens')).body.items.some((i: { id: number }) => i.id === c.body.id),
        ).toBe(false);
      });

      it('does not let the API-token endpoint revoke login sessions', async () => {
        // Sessions and API tokens share an id sequence; try every id below a fresh API token.
        const { body: session } = await login(t, ADMIN.email, ADMIN.password);
        const c = await t.api('POST', '/api/v1/api-tokens', { name: 'probe' });
        expect(c.status).toBe(201);
        for (let id = 1; id < c.body.id; id++) {
          const r = await t.api('DELETE', `/api/v1/api-tokens/${id}`, undefined, c.body.token);
          expect(r.status).toBe(404);
        }
        expect((await t.api('GET', '/api/v1/auth/me', undefined, session.token)).status).toBe(200);
        expect((await t.api('GET', '/api/v1/auth/me')).status).toBe(200);
        expect((await t.api('DELETE', `/api/v1/api-tokens/${c.body.id}`)).status).toBe(204);
      });
    });

    describe('templates', () => {
      it('creates, lists, reads, patches and deletes', async () => {
        const c = await t.api('POST', '/api/v1/templates', { name: 'Weather', description: 'outdoor' });
        expect(c.status, c.text).toBe(201);
        expect(c.body.id).toMatch(/^TMPL[A-Za-z0-9]{8,10}$/);
        expect(c.body).toMatchObject({ name: 'Weather', description: 'outdoor' });
        const id = c.body.id as string;

        const list = await t.api('GET', '/api/v1/templates');
        expect(list.status).toBe(200);
        expect(list.body.items.map((x: { id: string }) => x.id)).toContain(id);

        expect((await t.api('GET', `/api/v1/templates/${id}`)).body).toMatchObject({ id, name: 'Weather' });

        const p = await t.api('PATCH', `/api/v1/templates/${id}`, { name: 'Weather 2' });
        expect(p.status, p.text).toBe(200);
        expect(p.body).toMatchObject({ id, name: 'Weather 2', description: 'outdoor' });
        expect((await t.api('GET', `/api/v1/templates/${id}`)).body.name).toBe('Weather 2');

        expect(expectError(await t.api('POST', '/api/v1/templates', {}), 400, 'VALIDATION_FAILED').message).toContain(
          'name',
        );
        expect(
          expectError(await t.api('POST', '/api/v1/templates', { name: 'x', bogus: 1 }), 400, 'VALIDATION_FAILED')
            .message,
        ).toContain('bogus');
        expect(
          expectError(await t.api('POST', '/api/v1/templates', { name: { x: 1 } }), 400, 'VALIDATION_FAILED').message,
        ).toContain('name');
        expect(
          expectError(await t.api('PATCH', `/api/v1/templates/${id}`, { nmae: 'typo' }), 400, 'VALIDATION_FAILED')
            .message,
        ).toContain('nmae');

        expect((await t.api('DELETE', `/api/v1/templates/${id}`)).status).toBe(204);
        expectError(await t.api('GET', `/api/v1/templates/${id}`), 404, 'NOT_FOUND');
        expectError(await t.api('GET', '/api/v1/templates/TMPLnope12345'), 404, 'NOT_FOUND');
      });

      it('deleting a template deletes its devices', async () => {
        const { templateId, deviceId } = await seedDevice(t, [{ name: 'a', pin: 'V1', type: 'integer' }]);
        expect((await t.api('DELETE', `/api/v1/templates/${templateId}`)).status).toBe(204);
        expectError(await t.api('GET', `/api/v1/devices/${deviceId}`), 404, 'NOT_FOUND');
      });
    });

    describe('datastreams', () => {
      let tpl: string;
      beforeAll(async () => {
        tpl = (await t.api('POST', '/api/v1/templates', { name: 'DS template' })).body.id;
      });
      const dsPath = () => `/api/v1/templates/${tpl}/datastreams`;

      it('creates datastreams with small integer ids unique in the template', async () => {
        const a = await t.api('POST', dsPath(), {
          name: 'temperature',
          pin: 'v1',
          type: 'double',
          min: -40,
          max: 85,
          units: '°C',
          saveRaw: true,
        });
        const b = await t.api('POST', dsPath(), {
          name: 'mode',
          pin: 'V2',
          type: 'enum',
          options: [
            { value: 0, label: 'off' },
            { value: 1, label: 'on' },
          ],
          fallback: 0,
        });
        const c = await t.api('POST', dsPath(), { name: 'label', pin: 'V3', type: 'string', defaultValue: 'hello' });
        for (const r of [a, b, c]) expect(r.status, r.text).toBe(201);
        expect(a.body).toMatchObject({
          name: 'temperature',
          pin: 'V1',
          type: 'double',
          min: -40,
          max: 85,
          units: '°C',
          saveRaw: true,
        });
        expect(c.body.defaultValue).toBe('hello');
        const ids = [a.body.id, b.body.id, c.body.id];
        for (const id of ids) {
          expect(Number.isInteger(id)).toBe(true);
          expect(id).toBeGreaterThanOrEqual(0);
          expect(id).toBeLessThan(1000);
        }
        expect(new Set(ids).size).toBe(3);

        const list = await t.api('GET', dsPath());
        expect(list.status).toBe(200);
        expect(list.body.items.map((d: { pin: string }) => d.pin).sort()).toEqual(['V1', 'V2', 'V3']);
      });

      it('refuses duplicate pins and names with 409', async () => {
        expectError(await t.api('POST', dsPath(), { name: 'other', pin: 'V1', type: 'integer' }), 409, 'CONFLICT');
        expectError(
          await t.api('POST', dsPath(), { name: 'temperature', pin: 'V9', type: 'integer' }),
          409,
          'CONFLICT',
        );
      });

      it('rejects bad pins, naming the field', async () => {
        for (const pin of ['V256', 'X1', 'V01', '']) {
          const e = expectError(await t.api('POST', dsPath(), { name: `p${pin}`, pin, type: 'integer' }), 400);
          expect(e.message).toContain('pin');
        }
        const e = expectError(await t.api('POST', dsPath(), { name: 'np', type: 'integer' }), 400, 'VALIDATION_FAILED');
        expect(e.message).toContain('pin');
        const ty = expectError(
          await t.api('POST', dsPath(), { name: 'bt', pin: 'V40', type: 'boolean' }),
          400,
          'VALIDATION_FAILED',
        );
        expect(ty.message).toContain('type');
      });

      it('requires options for enums and rejects a default that does not fit', async () => {
        const e = expectError(await t.api('POST', dsPath(), { name: 'e', pin: 'V20', type: 'enum' }), 400);
        expect(e.message).toContain('options');
        expectError(await t.api('POST', dsPath(), { name: 'e', pin: 'V20', type: 'enum', options: [] }), 400);
        const d = expectError(
          await t.api('POST', dsPath(), { name: 'i', pin: 'V21', type: 'integer', defaultValue: 'abc' }),
          400,
        );
        expect(d.message).toContain('defaultValue');
        const mm = expectError(
          await t.api('POST', dsPath(), { name: 'i', pin: 'V21', type: 'integer', min: 10, max: 1 }),
          400,
        );
        expect(mm.message).toContain('min');
        // Nothing was created by the refused requests.
        const pins = (await t.api('GET', dsPath())).body.items.map((x: { pin: string }) => x.pin);
        expect(pins).not.toContain('V20');
        expect(pins).not.toContain('V21');
      });

      it('patches a datastream but refuses a type change; deletes', async () => {
        const c = await t.api('POST', dsPath(), { name: 'speed', pin: 'V10', type: 'integer', min: 0, max: 10 });
        expect(c.status).toBe(201);
        const p = `${dsPath()}/${c.body.id}`;
        const bad = expectError(await t.api('PATCH', p, { type: 'double' }), 400);
        expect(bad.message).toContain('type');
        const ok = await t.api('PATCH', p, { max: 200, units: 'km/h', name: 'velocity' });
        expect(ok.status, ok.text).toBe(200);
        expect(ok.body).toMatchObject({
          id: c.body.id,
          name: 'velocity',
          pin: 'V10',
          type: 'integer',
          min: 0,
          max: 200,
          units: 'km/h',
        });
        const listed = (await t.api('GET', dsPath())).body.items.find((d: { id: number }) => d.id === c.body.id);
        expect(listed).toMatchObject({ name: 'velocity', type: 'integer', max: 200 });
        // Moving onto a pin in use is a conflict.
        expectError(await t.api('PATCH', p, { pin: 'V1' }), 409, 'CONFLICT');
        expectError(await t.api('PATCH', `${dsPath()}/9999`, { units: 'x' }), 404, 'NOT_FOUND');

        expect((await t.api('DELETE', p)).status).toBe(204);
        expect((await t.api('GET', dsPath())).body.items.some((d: { id: number }) => d.id === c.body.id)).toBe(false);
        expectError(await t.api('DELETE', p), 404, 'NOT_FOUND');
        // The pin is free again.
        expect((await t.api('POST', dsPath(), { name: 'again', pin: 'V10', type: 'integer' })).status).toBe(201);
      });

      it('applies a new max to values written afterwards', async () => {
        const { templateId, deviceId } = await seedDevice(t, [{ name: 'level', pin: 'V1', type: 'integer', max: 10 }]);
        const ds = (await t.api('GET', `/api/v1/templates/${templateId}/datastreams`)).body.items[0];
        expect((await t.api('PUT', `/api/v1/devices/${deviceId}/values`, { V1: 50 })).body).toEqual({
          values: { V1: 10 },
        });
        expect(
          (await t.api('PATCH', `/api/v1/templates/${templateId}/datastreams/${ds.id}`, { max: 100 })).status,
        ).toBe(200);
        expect((await t.api('PUT', `/api/v1/devices/${deviceId}/values`, { V1: 50 })).body).toEqual({
          values: { V1: 50 },
        });
      });
    });

    describe('metafields, events, lifecycle', () => {
      let tpl: string;
      beforeAll(async () => {
        tpl = (await t.api('POST', '/api/v1/templates', { name: 'Meta template' })).body.id;
      });

      it('adds and lists metafields; duplicates are 409', async () => {
        const c = await t.api('POST', `/api/v1/templates/${tpl}/metafields`, {
          name: 'Serial',
          type: 'text',
          defaultValue: 'n/a',
        });
        expect(c.status, c.text).toBe(201);
        expect(c.body).toMatchObject({
          id: expect.any(Number),
          name: 'Serial',
          type: 'text',
          required: false,
          defaultValue: 'n/a',
        });
        expectError(
          await t.api('POST', `/api/v1/templates/${tpl}/metafields`, { name: 'Serial', type: 'text' }),
          409,
          'CONFLICT',
        );
        const e = expectError(
          await t.api('POST', `/api/v1/templates/${tpl}/metafields`, { name: 'X', type: 'nope' }),
          400,
          'VALIDATION_FAILED',
        );
        expect(e.message).toContain('type');
        const list = await t.api('GET', `/api/v1/templates/${tpl}/metafields`);
        expect(list.body.items).toEqual([expect.objectContaining({ name: 'Serial', type: 'text' })]);
        expect((await t.api('DELETE', `/api/v1/templates/${tpl}/metafields/${c.body.id}`)).status).toBe(204);
        expect((await t.api('GET', `/api/v1/templates/${tpl}/metafields`)).body.items).toEqual([]);
      });

      it('adds and lists events', async () => {
        const c = await t.api('POST', `/api/v1/templates/${tpl}/events`, {
          code: 'overheat',
          name: 'Overheat',
          type: 'critical',
        });
        expect(c.status, c.text).toBe(201);
        expect(c.body).toMatchObject({ id: expect.any(Number), code: 'overheat', name: 'Overheat', type: 'critical' });
        expectError(
          await t.api('POST', `/api/v1/templates/${tpl}/events`, { code: 'overheat', name: 'Again' }),
          409,
          'CONFLICT',
        );
        const bad = expectError(
          await t.api('POST', `/api/v1/templates/${tpl}/events`, { code: 'bad-code!', name: 'x' }),
          400,
          'VALIDATION_FAILED',
        );
        expect(bad.message).toContain('code');
        const list = await t.api('GET', `/api/v1/templates/${tpl}/events`);
        expect(list.body.items.map((e: { code: string }) => e.code)).toEqual(['overheat']);
      });

      it('sets the lifecycle', async () => {
        const r = await t.api('PUT', `/api/v1/templates/${tpl}/lifecycle`, {
          logAnyData: true,
          offlineAfterSeconds: 30,
        });
        expect(r.status, r.text).toBe(200);
        expect(r.body).toEqual({ logAnyData: true, offlineAfterSeconds: 30 });
        expect((await t.api('GET', `/api/v1/templates/${tpl}`)).body.lifecycle).toEqual({
          logAnyData: true,
          offlineAfterSeconds: 30,
        });
        const e = expectError(
          await t.api('PUT', `/api/v1/templates/${tpl}/lifecycle`, { logAnyData: true, offlineAfterSeconds: 0 }),
          400,
          'VALIDATION_FAILED',
        );
        expect(e.message).toContain('offlineAfterSeconds');
        expectError(
          await t.api('PUT', `/api/v1/templates/${tpl}/lifecycle`, { logAnyData: 'yes', offlineAfterSeconds: 5 }),
          400,
          'VALIDATION_FAILED',
        );
        expect((await t.api('GET', `/api/v1/templates/${tpl}`)).body.lifecycle).toEqual({
          logAnyData: true,
          offlineAfterSeconds: 30,
        });
      });
    });

    describe('devices', () => {
      let tpl: string;
      let other: string;
      beforeAll(async () => {
        tpl = (await t.api('POST', '/api/v1/templates', { name: 'Device template' })).body.id;
        other = (await t.api('POST', '/api/v1/templates', { name: 'Other template' })).body.id;
        await t.api('POST', `/api/v1/templates/${tpl}/metafields`, { name: 'Room', type: 'text' });
        await t.api('POST', `/api/v1/templates/${tpl}/metafields`, { name: 'Floor', type: 'number', defaultValue: 1 });
        for (const ds of [
          { name: 'temp', pin: 'V1', type: 'double' },
          { name: 'count', pin: 'V2', type: 'integer', min: 0, max: 100 },
          { name: 'where', pin: 'V3', type: 'location' },
          { name: 'note', pin: 'V4', type: 'string' },
        ]) {
          const r = await t.api('POST', `/api/v1/templates/${tpl}/datastreams`, ds);
          if (r.status !== 201) throw new Error(r.text);
        }
      });

      it('creates a device with the documented shape', async () => {
        const before = Date.now();
        const r = await t.api('POST', '/api/v1/devices', {
          templateId: tpl,
          name: 'Kitchen sensor',
          metadata: { Room: 'kitchen' },
        });
        expect(r.status, r.text).toBe(201);
        expect(r.body).toMatchObject({
          id: expect.anything(),
          name: 'Kitchen sensor',
          templateId: tpl,
          online: false,
          metadata: { Room: 'kitchen', Floor: 1 },
        });
        expect(r.body.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
        expect(r.body.createdAt).toBeGreaterThanOrEqual(before - 1000);
        expect(r.body.createdAt).toBeLessThanOrEqual(Date.now() + 1000);
        // The token is the device's: the device API accepts it.
        expect((await t.get(`/external/api/isHardwareConnected?token=${r.body.token}`)).text).toBe('false');

        const bad = expectError(
          await t.api('POST', '/api/v1/devices', { templateId: tpl, name: 'x', metadata: { Nope: 1 } }),
          400,
        );
        expect(bad.message).toContain('Nope');
        const nt = expectError(await t.api('POST', '/api/v1/devices', { templateId: 'TMPLmissing00', name: 'x' }), 400);
        expect(nt.message).toContain('templateId');
        const nn = expectError(await t.api('POST', '/api/v1/devices', { templateId: tpl }), 400, 'VALIDATION_FAILED');
        expect(nn.message).toContain('name');
      });

      it('lists devices with templateId, search, limit, offset and total', async () => {
        const made: number[] = [];
        for (let i = 0; i < 5; i++) {
          made.push((await t.api('POST', '/api/v1/devices', { templateId: other, name: `Pump ${i}` })).body.id);
        }
        await t.api('POST', '/api/v1/devices', { templateId: other, name: 'Valve' });

        const all = await t.api('GET', `/api/v1/devices?templateId=${other}`);
        expect(all.status).toBe(200);
        expect(all.body.total).toBe(6);
        expect(all.body.items).toHaveLength(6);
        for (const d of all.body.items) expect(d.templateId).toBe(other);

        const pumps = await t.api('GET', `/api/v1/devices?templateId=${other}&search=Pump`);
        expect(pumps.body.total).toBe(5);
        expect(pumps.body.items.every((d: { name: string }) => d.name.startsWith('Pump'))).toBe(true);

        const page1 = await t.api('GET', `/api/v1/devices?templateId=${other}&search=Pump&limit=2&offset=0`);
        const page2 = await t.api('GET', `/api/v1/devices?templateId=${other}&search=Pump&limit=2&offset=2`);
        const page3 = await t.api('GET', `/api/v1/devices?templateId=${other}&search=Pump&limit=2&offset=4`);
        expect(page1.body.total).toBe(5);
        expect(page1.body.items).toHaveLength(2);
        expect(page2.body.items).toHaveLength(2);
        expect(page3.body.items).toHaveLength(1);
        const ids = [...page1.body.items, ...page2.body.items, ...page3.body.items].map((d: { id: number }) => d.id);
        expect(new Set(ids)).toEqual(new Set(made));

        const none = await t.api('GET', `/api/v1/devices?templateId=${other}&search=zzz-nothing`);
        expect(none.body).toEqual({ items: [], total: 0 });

        expect(expectError(await t.api('GET', '/api/v1/devices?limit=0'), 400, 'VALIDATION_FAILED').message).toContain(
          'limit',
        );
        expect(
          expectError(await t.api('GET', '/api/v1/devices?offset=-1'), 400, 'VALIDATION_FAILED').message,
        ).toContain('offset');
        expect(
          expectError(await t.api('GET', '/api/v1/devices?limit=abc'), 400, 'VALIDATION_FAILED').message,
        ).toContain('limit');
      });

      it('search treats LIKE wildcards literally', async () => {
        const tp = (await t.api('POST', '/api/v1/templates', { name: 'Wildcards' })).body.id;
        await t.api('POST', '/api/v1/devices', { templateId: tp, name: 'abc' });
        await t.api('POST', '/api/v1/devices', { templateId: tp, name: '100% sure' });
        expect((await t.api('GET', `/api/v1/devices?templateId=${tp}&search=%25`)).body.total).toBe(1);
        expect((await t.api('GET', `/api/v1/devices?templateId=${tp}&search=_`)).body.total).toBe(0);
      });

      it('returns latest values keyed by pin, location as [lon, lat]', async () => {
        const { body: dev } = await t.api('POST', '/api/v1/devices', { templateId: tpl, name: 'Values' });
        const before = Date.now();
        const up = await t.get(`/external/api/batch/update?token=${dev.token}&V1=21.5&V3=-73.8731,40.8414&V4=hi`);
        expect(up.status, up.text).toBe(200);
        const g = await t.api('GET', `/api/v1/devices/${dev.id}`);
        expect(g.status).toBe(200);
        expect(g.body).toMatchObject({
          id: dev.id,
          name: 'Values',
          templateId: tpl,
          token: dev.token,
          metadata: { Room: null, Floor: 1 },
        });
        expect(Object.keys(g.body.values).sort()).toEqual(['V1', 'V3', 'V4']);
        expect(g.body.values.V1).toEqual({ value: 21.5, ts: expect.any(Number) });
        expect(g.body.values.V3.value).toEqual([-73.8731, 40.8414]);
        expect(g.body.values.V4.value).toBe('hi');
        expect(g.body.values.V1.ts).toBeGreaterThanOrEqual(before - 1000);
        expect(g.body.lastSeenAt).toBeGreaterThanOrEqual(before - 1000);
      });

      it('patches name and metadata without losing other metadata', async () => {
        const { body: dev } = await t.api('POST', '/api/v1/devices', {
          templateId: tpl,
          name: 'Old',
          metadata: { Room: 'hall', Floor: 3 },
        });
        const p = await t.api('PATCH', `/api/v1/devices/${dev.id}`, { name: 'New' });
        expect(p.status, p.text).toBe(200);
        expect(p.body).toMatchObject({ name: 'New', metadata: { Room: 'hall', Floor: 3 } });
        const m = await t.api('PATCH', `/api/v1/devices/${dev.id}`, { metadata: { Floor: 4 } });
        expect(m.body).toMatchObject({ name: 'New', metadata: { Room: 'hall', Floor: 4 } });
        const g = await t.api('GET', `/api/v1/devices/${dev.id}`);
        expect(g.body).toMatchObject({ name: 'New', metadata: { Room: 'hall', Floor: 4 } });
        const bad = expectError(
          await t.api('PATCH', `/api/v1/devices/${dev.id}`, { metadata: { Floor: 'high' } }),
          400,
        );
        expect(bad.message).toContain('Floor');
        expect((await t.api('GET', `/api/v1/devices/${dev.id}`)).body.metadata.Floor).toBe(4);
        // Names are listed by search after a rename.
        expect((await t.api('GET', `/api/v1/devices?templateId=${tpl}&search=New`)).body.total).toBe(1);
      });

      it('deletes a device; then it is 404 everywhere', async () => {
        const { body: dev } = await t.api('POST', '/api/v1/devices', { templateId: tpl, name: 'Doomed' });
        await t.api('PUT', `/api/v1/devices/${dev.id}/values`, { V1: 1 });
        expect((await t.api('DELETE', `/api/v1/devices/${dev.id}`)).status).toBe(204);
        expectError(await t.api('GET', `/api/v1/devices/${dev.id}`), 404, 'NOT_FOUND');
        expectError(await t.api('PATCH', `/api/v1/devices/${dev.id}`, { name: 'x' }), 404, 'NOT_FOUND');
        expectError(await t.api('PUT', `/api/v1/devices/${dev.id}/values`, { V1: 1 }), 404, 'NOT_FOUND');
        expectError(await t.api('GET', `/api/v1/devices/${dev.id}/history?pin=V1`), 404, 'NOT_FOUND');
        expectError(await t.api('DELETE', `/api/v1/devices/${dev.id}`), 404, 'NOT_FOUND');
        expect((await t.get(`/external/api/get?token=${dev.token}&v1`)).status).toBe(400);
        expect((await t.api('GET', `/api/v1/devices?templateId=${tpl}&search=Doomed`)).body.total).toBe(0);
        expectError(await t.api('GET', '/api/v1/devices/abc'), 400, 'VALIDATION_FAILED');
      });

      it('writes values by pin and by name', async () => {
        const { body: dev } = await t.api('POST', '/api/v1/devices', { templateId: tpl, name: 'Writer' });
        const r = await t.api('PUT', `/api/v1/devices/${dev.id}/values`, {
          v1: 3.5,
          count: 250,
          where: [10, 20],
          note: 'x',
        });
        expect(r.status, r.text).toBe(200);
        expect(r.body).toEqual({ values: { V1: 3.5, V2: 100, V3: [10, 20], V4: 'x' } });
        const g = await t.api('GET', `/api/v1/devices/${dev.id}`);
        expect(g.body.values.V1.value).toBe(3.5);
        expect(g.body.values.V2.value).toBe(100);
        expect(g.body.values.V3.value).toEqual([10, 20]);
        expect((await t.get(`/external/api/get?token=${dev.token}&v2`)).text).toBe('100');
      });

      it('refuses a bad value with 400 and writes nothing from that request', async () => {
        const { body: dev } = await t.api('POST', '/api/v1/devices', { templateId: tpl, name: 'Atomic' });
        expect((await t.api('PUT', `/api/v1/devices/${dev.id}/values`, { V1: 1, V2: 1 })).status).toBe(200);

        const bad = expectError(await t.api('PUT', `/api/v1/devices/${dev.id}/values`, { V1: 99, V2: 1.5 }), 400);
        expect(bad.message).toContain('V2');
        const unknown = expectError(await t.api('PUT', `/api/v1/devices/${dev.id}/values`, { V1: 98, V77: 1 }), 400);
        expect(unknown.message).toContain('V77');
        const longStr = expectError(
          await t.api('PUT', `/api/v1/devices/${dev.id}/values`, { V1: 97, note: 'x'.repeat(1025) }),
          400,
        );
        expect(longStr.message).toContain('V4');
        expectError(await t.api('PUT', `/api/v1/devices/${dev.id}/values`, {}), 400, 'VALIDATION_FAILED');
        expectError(await t.api('PUT', `/api/v1/devices/${dev.id}/values`, [1, 2]), 400, 'VALIDATION_FAILED');

        const g = await t.api('GET', `/api/v1/devices/${dev.id}`);
        expect(g.body.values.V1.value).toBe(1);
        expect(g.body.values.V2.value).toBe(1);
        expect(g.body.values.V4).toBeUndefined();
        const h = await t.api('GET', `/api/v1/devices/${dev.id}/history?pin=V1&from=0&to=${Date.now() + 60_000}`);
        // Only the one accepted write reached history (V1 is not raw: one minute point of average 1).
        expect(h.body.points.map((p: [number, number]) => p[1])).toEqual([1]);
      });

      it('history: every point for saveRaw, one averaged point per minute otherwise', async () => {
        const raw = await seedDevice(t, [
          { name: 'raw', pin: 'V1', type: 'double', saveRaw: true },
          { name: 'avg', pin: 'V2', type: 'double' },
        ]);
        const m0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
        try {
          const writes: Array<[number, number]> = [
            [m0 + 1_000, 10],
            [m0 + 2_000, 20],
            [m0 + 3_000, 60],
            [m0 + 61_000, 5],
          ];
          for (const [ts, v] of writes) {
            fakeNow = ts;
            const r = await t.api('PUT', `/api/v1/devices/${raw.deviceId}/values`, { V1: v, avg: v });
            expect(r.status, r.text).toBe(200);
          }
        } finally {
          fakeNow = undefined;
        }
        const q = (pin: string, from: number, to: number) =>
          t.api('GET', `/api/v1/devices/${raw.deviceId}/history?pin=${pin}&from=${from}&to=${to}`);
        const r1 = await q('V1', m0, m0 + 120_000);
        expect(r1.status, r1.text).toBe(200);
        expect(r1.body.points).toEqual([
          [m0 + 1_000, 10],
          [m0 + 2_000, 20],
          [m0 + 3_000, 60],
          [m0 + 61_000, 5],
        ]);
        const r2 = await q('avg', m0, m0 + 120_000);
        expect(r2.body.points).toEqual([
          [m0, 30],
          [m0 + 60_000, 5],
        ]);
        // from/to bound the range.
        expect((await q('V1', m0 + 1_500, m0 + 3_000)).body.points).toEqual([
          [m0 + 2_000, 20],
          [m0 + 3_000, 60],
        ]);
        expect((await q('V2', m0 + 60_000, m0 + 120_000)).body.points).toEqual([[m0 + 60_000, 5]]);
        expect((await q('V1', m0 - 120_000, m0 - 60_000)).body.points).toEqual([]);
        // limit keeps the newest points.
        const lim = await t.api(
          'GET',
          `/api/v1/devices/${raw.deviceId}/history?pin=V1&from=${m0}&to=${m0 + 120_000}&limit=2`,
        );
        expect(lim.body.points).toEqual([
          [m0 + 3_000, 60],
          [m0 + 61_000, 5],
        ]);

        expect(
          expectError(await t.api('GET', `/api/v1/devices/${raw.deviceId}/history`), 400, 'VALIDATION_FAILED').message,
        ).toContain('pin');
        expect(
          expectError(await t.api('GET', `/api/v1/devices/${raw.deviceId}/history?pin=V99`), 400).message,
        ).toContain('pin');
        expect(
          expectError(
            await t.api('GET', `/api/v1/devices/${raw.deviceId}/history?pin=V1&from=abc`),
            400,
            'VALIDATION_FAILED',
          ).message,
        ).toContain('from');
        expectError(await t.api('GET', `/api/v1/devices/${raw.deviceId}/history?pin=V1&from=20&to=10`), 400);
      });

      it('timeline lists events logged by the device, newest first', async () => {
        const { deviceId, token, templateId } = await seedDevice(t, [{ name: 'x', pin: 'V1', type: 'integer' }]);
        expect(
          (
            await t.api('POST', `/api/v1/templates/${templateId}/events`, {
              code: 'door_open',
              name: 'Door open',
              type: 'warning',
            })
          ).status,
        ).toBe(201);
        expect((await t.get(`/external/api/logEvent?token=${token}&code=door_open&description=front`)).status).toBe(
          200,
        );
        const tl = await t.api('GET', `/api/v1/devices/${deviceId}/timeline`);
        expect(tl.status, tl.text).toBe(200);
        expect(tl.body.items.length).toBeGreaterThanOrEqual(1);
        const ev = tl.body.items.find((i: { type: string }) => i.type !== 'online' && i.type !== 'offline');
        expect(ev).toMatchObject({ ts: expect.any(Number) });
        expect(JSON.stringify(ev)).toContain('door_open');
        for (let i = 1; i < tl.body.items.length; i++)
          expect(tl.body.items[i - 1].ts).toBeGreaterThanOrEqual(tl.body.items[i].ts);
      });
    });

    describe('errors and docs', () => {
      it('answers unknown routes with 404 in the platform envelope', async () => {
        const r = await t.api('GET', '/api/v1/nothing-here');
        expectError(r, 404);
        const r2 = await t.api('GET', '/definitely/not/a/route', undefined, null);
        expectError(r2, 404);
      });

      it('answers invalid JSON, wrong content types and unknown fields with 4xx envelopes', async () => {
        const bad = await fetch(`${t.url}/api/v1/templates`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
          body: '{"name": ',
        });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as any).error.code).toBe('INVALID_JSON');
        const ct = await fetch(`${t.url}/api/v1/templates`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'text/xml' },
          body: '<name/>',
        });
        expect(ct.status).toBe(415);
        expect(((await ct.json()) as any).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      });

      it('serves an OpenAPI 3 document', async () => {
        const r = await t.get('/api/docs/json');
        expect(r.status).toBe(200);
        expect(r.body.openapi).toMatch(/^3\./);
        expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(['/api/v1/devices', '/external/api/update']));
      });
    });
  });
});

describe.each(backends())('out-of-range numbers on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 400, not 500, for integers no column holds', async () => {
    const { templateId, deviceId } = await seedDevice(t, [{ name: 'n', pin: 'V1', type: 'integer' }]);
    for (const p of [
      '/api/v1/devices?offset=1e309',
      '/api/v1/devices?offset=1e20',
      `/api/v1/devices/${deviceId}/history?pin=V1&from=1e309`,
      `/api/v1/devices/${deviceId}/timeline?to=99999999999999999999`,
      '/api/v1/devices/1e12',
      `/api/v1/templates/${templateId}/datastreams/4294967296`,
    ]) {
      const r = await t.api(p.includes('datastreams/') ? 'DELETE' : 'GET', p);
      expect(r.status, p).toBe(400);
      expect(r.body.error.code, p).toBe('VALIDATION_FAILED');
    }
    const raw = await fetch(`${t.url}/api/v1/templates/${templateId}/datastreams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: '{"name":"big","pin":"V9","type":"double","max":1e309}',
    });
    expect(raw.status).toBe(400);
  });
});

describe.each(backends())('clearing datastream settings with null on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores null as "no bound", not 0, and PATCH null clears a bound', async () => {
    const tpl = await t.api('POST', '/api/v1/templates', { name: 'Nulls' });
    const created = await t.api('POST', `/api/v1/templates/${tpl.body.id}/datastreams`, {
      name: 'text',
      pin: 'V1',
      type: 'string',
      min: null,
      max: null,
      fallback: null,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ min: null, max: null, fallback: null });
    const num = await t.api('POST', `/api/v1/templates/${tpl.body.id}/datastreams`, {
      name: 'level',
      pin: 'V2',
      type: 'double',
      min: 0,
      max: 10,
    });
    const cleared = await t.api('PATCH', `/api/v1/templates/${tpl.body.id}/datastreams/${num.body.id}`, { max: null });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body).toMatchObject({ min: 0, max: null });
  });
});
