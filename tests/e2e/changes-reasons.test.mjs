// Changing things 2: controls the signed-in role may not use are disabled, and say why on
// hover (their title) and in a visible reason text they are described by. The verdicts are
// the rules' (`allowed_actions`, the server's own code), not the UI's:
// - a client that gives the partner User Admin access only: an admin's actions are refused,
//   and for a member the roles it may not give are not on offer;
// - a client with one active admin: that admin cannot be suspended, removed or demoted.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.mjs';
import { startApp } from './support/app.mjs';
import { THEMES, assertNoErrors, guarded, openDetail, signIn, switchOrgWithSwitcher } from './support/flows.mjs';

const SPEC = 'changes-reasons';

/** The detail's action buttons and what each asks the rules. */
const BUTTONS = {
  suspend: 'suspend',
  restore: 'restore',
  resend: 'resend_invitation',
  'cancel-invitation': 'cancel_invitation',
  remove: 'remove',
};

for (const theme of THEMES) {
  describe(`refused controls say why (${theme})`, () => {
    let server;
    let app;
    let orgs;
    /** the client where the partner is User Admin */
    let limited;
    /** an admin-access client with one active admin */
    let lonely;
    const step = (name, fn) => it(name, guarded(SPEC, () => app, name, fn));
    const shot = (name) => app.screenshot(SPEC, name);
    const verdicts = (org, user) => app.invoke('allowed_actions', { org: org.id, user: user.id });

    /** A disabled control as the user meets it: hovered, its title, and the text it points at. */
    async function readDisabled(id) {
      const el = await app.waitFor(id);
      await el.moveTo();
      return app.exec((sel) => {
        const e = document.querySelector(sel);
        const described = (e.getAttribute('aria-describedby') ?? '')
          .split(' ')
          .filter(Boolean)
          .map((x) => document.getElementById(x)?.textContent?.trim() ?? `(no #${x})`);
        return { disabled: e.disabled, title: e.getAttribute('title'), described, hovered: e.matches(':hover') };
      }, `[data-testid="${id}"]`);
    }

    before(async () => {
      server = await startServer({ clients: 8, members: 1000 });
      orgs = await server.orgs();
      limited = orgs.find((o) => o.kind === 'client' && o.role === 'user_admin');
      assert.ok(limited, `a client with User Admin partner access among ${orgs.map((o) => `${o.name} (${o.role})`).join(', ')}`);
      for (const o of orgs.filter((x) => x.kind === 'client' && x.role === 'admin')) {
        const admins = (await server.allMembers(o.id, { role: 'admin' })).filter((m) => m.status === 'active');
        if (admins.length === 1) {
          lonely = { ...o, admin: admins[0] };
          break;
        }
      }
      assert.ok(lonely, 'a client with one active admin');
      app = await startApp({ name: `${SPEC}-${theme}`, theme });
      await signIn(app, server);
    });

    after(async () => {
      await app?.stop();
      await server?.dispose();
    });

    step('User Admin access: an admin\'s actions are disabled with the rules\' reasons', async () => {
      await switchOrgWithSwitcher(app, limited);
      const members = await server.allMembers(limited.id);
      const admin = members.find((m) => m.role === 'admin' && m.status === 'active');
      await openDetail(app, admin);
      const vs = await verdicts(limited, admin);
      const refused = new Map(vs.filter((v) => !v.allowed && !v.role).map((v) => [v.action, v]));
      assert.ok(refused.has('suspend'), `suspending an admin is refused: ${JSON.stringify(vs)}`);
      console.log(`refused on an admin with User Admin access: ${[...refused.values()].map((v) => `${v.action} (${v.code})`).join(', ')}`);

      let seen = 0;
      for (const [key, action] of Object.entries(BUTTONS)) {
        if (!(await app.exists(`action-${key}`))) continue;
        const v = vs.find((x) => x.action === action);
        const c = await readDisabled(`action-${key}`);
        if (v.allowed) {
          assert.equal(c.disabled, false, `${key} allowed`);
          continue;
        }
        seen += 1;
        assert.equal(c.disabled, true, `${key} is disabled`);
        assert.equal(c.title, v.reason, `${key}: the title is the rules' reason`);
        const label = key === 'cancel-invitation' ? 'Cancel invitation' : key[0].toUpperCase() + key.slice(1);
        assert.equal(await app.text(`reason-${key}`), `${label}: ${v.reason}`);
        assert.deepEqual(c.described, [`${label}: ${v.reason}`], `${key} is described by its reason`);
      }
      assert.ok(seen >= 1);
      // Edit: disabled only when nothing at all may be edited
      const edit = await readDisabled('detail-edit');
      if (edit.disabled) {
        assert.ok(edit.title && edit.title.length > 5);
        assert.match(await app.text('reason-edit'), /^Edit: /);
      }
      await assertNoErrors(app, 'with refused actions');
      await shot('reason-disabled');
      await app.click('detail-close');
    });

    step('User Admin access: for a member, the roles the rules refuse are not on offer in Edit, with the reason', async () => {
      const members = await server.allMembers(limited.id);
      const member = members.find((m) => m.role === 'member' && m.status === 'active');
      await openDetail(app, member);
      const vs = await verdicts(limited, member);
      const roles = vs.filter((v) => v.action === 'change_role');
      const toAdmin = roles.find((v) => v.role === 'admin');
      assert.equal(toAdmin.allowed, false, 'making someone admin is refused');
      console.log(`role changes with User Admin access: ${roles.map((v) => `${v.role} ${v.allowed ? 'allowed' : `${v.code}: ${v.reason}`}`).join('; ')}`);
      assert.equal(await app.exec(() => document.querySelector('[data-testid="detail-edit"]').disabled), false, 'the profile may be edited');

      await app.click('detail-edit');
      await app.waitFor('detail-edit-form');
      const role = await app.exec(() => {
        const s = document.querySelector('[data-testid="edit-role"]');
        return {
          disabled: s.disabled,
          title: s.getAttribute('title'),
          options: [...s.options].map((o) => ({ value: o.value, disabled: o.disabled, title: o.getAttribute('title') })),
          described: (s.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean).map((x) => document.getElementById(x)?.textContent?.trim()),
        };
      });
      const reasonText = await app.text('reason-role');
      assert.ok(reasonText.includes(toAdmin.reason), `reason-role says why: ${reasonText}`);
      assert.deepEqual(role.described, [reasonText], 'the select is described by the reason');
      if (roles.every((v) => !v.allowed)) {
        // no other role at all: the whole select is disabled, its title the reason
        assert.equal(role.disabled, true, 'the role select is disabled');
        assert.equal(role.title, reasonText);
      } else {
        assert.equal(role.disabled, false, 'some other role is allowed');
        assert.ok(reasonText.includes('Admin'), 'the reason names the refused roles');
      }
      for (const o of role.options) {
        const v = roles.find((x) => x.role === o.value);
        if (!v) continue;
        assert.equal(o.disabled, !v.allowed, `${o.value} as the rules say`);
        if (!v.allowed) assert.equal(o.title, v.reason, `${o.value}: the option's title is the reason`);
      }
      // the profile fields stay editable: the refusal is only about the role
      assert.equal(await app.exec(() => document.querySelector('[data-testid="edit-title"]').disabled), false);
      await (await app.waitFor('edit-role')).moveTo();
      await shot('reason-role');
      await app.click('detail-cancel');
      await app.waitFor('detail-edit-form', { gone: true });
      await app.click('detail-close');
    });

    step('the last active admin cannot be suspended, removed or demoted, and it says why', async () => {
      await switchOrgWithSwitcher(app, lonely);
      const admin = lonely.admin;
      await openDetail(app, admin);
      const vs = await verdicts(lonely, admin);
      for (const action of ['suspend', 'remove']) {
        const v = vs.find((x) => x.action === action);
        assert.equal(v.allowed, false, `${action} refused`);
        assert.equal(v.code, 'last_admin');
        const c = await readDisabled(`action-${action}`);
        assert.equal(c.disabled, true);
        assert.equal(c.title, v.reason);
        assert.equal(c.hovered, true, 'the pointer is on it');
        assert.match(await app.text(`reason-${action}`), new RegExp(`^${action[0].toUpperCase()}${action.slice(1)}: `));
        assert.ok((await app.text(`reason-${action}`)).endsWith(v.reason));
      }
      console.log(`last admin: ${vs.find((x) => x.action === 'suspend').reason}`);
      await shot('reason-last-admin');

      // demoting: every other role is refused, so the role select is disabled with the reason
      const roles = vs.filter((v) => v.action === 'change_role');
      assert.ok(roles.length >= 5 && roles.every((v) => !v.allowed), 'no other role allowed');
      assert.ok(roles.some((v) => v.code === 'last_admin'));
      await app.click('detail-edit');
      await app.waitFor('detail-edit-form');
      const c = await readDisabled('edit-role');
      assert.equal(c.disabled, true, 'the role select is disabled');
      const lastAdmin = roles.find((v) => v.code === 'last_admin').reason;
      assert.ok(c.title.includes(lastAdmin), `its title says why: ${c.title}`);
      assert.ok((await app.text('reason-role')).includes(lastAdmin));
      assert.deepEqual(c.described, [await app.text('reason-role')]);
      await shot('reason-last-admin-role');
      await app.click('detail-cancel');
      await app.waitFor('detail-edit-form', { gone: true });
      await assertNoErrors(app, 'with the last admin open');
    });
  });
}
