"""The Horizon flow of tests/functional/test_horizon.py, driven by Playwright.

Runs in the Playwright venv (not the project's), so it imports nothing of
trove.  Argument: a JSON object {url, user, password, artefacts, backups}.
Prints one JSON line per step, {"step", "ok", "detail"}, and a screenshot
per step into ``artefacts``; a failed step ends the flow, except that the
instances are still deleted through the UI when they exist.
"""
import json
import re
import sys
import time

from playwright.sync_api import sync_playwright

NAME = 'hz-maria'
RESTORED = 'hz-restored'
BACKUP = 'hz-backup'
CONFIG = 'hz-config'


class Flow:
    """One browser session on Horizon and the steps' shared state."""

    def __init__(self, page, args):
        self.page, self.url, self.args = page, args['url'].rstrip('/'), args
        self.shot = 0
        self.ids = {}

    def screenshot(self, step):
        self.shot += 1
        self.page.screenshot(path='%s/%02d-%s.png' % (self.args['artefacts'], self.shot, step),
                             full_page=True)

    def goto(self, path):
        """Open ``path``; Horizon's error page (a 500 without the compute
        catalog entry, say) fails the step at once with its status."""
        resp = self.page.goto(self.url + path, wait_until='networkidle', timeout=120000)
        if resp is not None and resp.status >= 400:
            raise AssertionError('GET %s answered %d' % (path, resp.status))

    def submit(self):
        """Submit the page's form and wait for the page it leads to."""
        with self.page.expect_navigation(timeout=120000):
            self.page.locator('.modal-footer [type=submit]').first.click()
        self.page.wait_for_load_state('networkidle')
        self.expect_no_error()

    def expect_no_error(self):
        errors = self.page.locator('.alert-danger, .messages .error, .help-block.error')
        texts = [t.strip() for t in errors.all_inner_texts() if t.strip()]
        if texts:
            raise AssertionError('Horizon shows: %s' % ' | '.join(texts))

    def row(self, name):
        return self.page.locator('tr[data-display="%s"]' % name)

    def wait_row(self, path, name, pattern, timeout=600):
        """Reload ``path`` until the row of ``name`` matches ``pattern``."""
        deadline = time.time() + timeout
        text = ''
        while time.time() < deadline:
            self.goto(path)
            row = self.row(name)
            if row.count():
                text = row.first.inner_text()
                if re.search(pattern, text):
                    return row.first
                if re.search(r'\bError\b|\bFailed\b', text):
                    break
            time.sleep(3)
        raise AssertionError('%s never matched %r: %r' % (name, pattern, text))

    # -- the steps ----------------------------------------------------------

    def login(self):
        self.goto('/auth/login/')
        self.page.fill('#id_username', self.args['user'])
        self.page.fill('#id_password', self.args['password'])
        with self.page.expect_navigation(timeout=120000):
            self.page.click('#loginBtn')
        self.page.wait_for_load_state('networkidle')
        if '/auth/login' in self.page.url:
            raise AssertionError('still on the login page: %s' % self.page.url)
        return self.page.url

    def launch(self, name=NAME, backup=None):
        self.goto('/project/databases/launch')
        self.page.fill('#id_name', name)
        self.page.fill('#id_volume', '1')
        datastore = self.page.locator('#id_datastore option', has_text='mariadb').first
        self.page.select_option('#id_datastore', datastore.get_attribute('value'))
        if backup:
            self.page.click('a[data-target="#launch_instance__advancedaction"]')
            self.page.select_option('#id_initial_state', 'backup')
            self.page.select_option('#id_backup', label=backup)
        self.submit()
        row = self.row(name)
        if not row.count():
            raise AssertionError('%s is not listed after launch' % name)
        self.ids[name] = row.first.get_attribute('data-object-id')
        return self.ids[name]

    def wait_active(self, name=NAME):
        row = self.wait_row('/project/databases/', name, r'\bActive\b')
        return row.inner_text().replace('\t', ' ')[:200]

    def detail_tab(self, name, tab, wanted):
        """The instance's detail page, tab ``tab`` (its slug), must list ``wanted``."""
        pane = 'instance_details__%s' % tab
        self.goto('/project/databases/%s/?tab=%s' % (self.ids[name], pane))
        text = self.page.locator('#%s' % pane).inner_text()
        if wanted not in text:
            raise AssertionError('%s not in the %s tab: %r' % (wanted, tab, text[:300]))

    def create_database(self):
        self.goto('/project/databases/%s/create_database' % self.ids[NAME])
        self.page.fill('#id_name', 'hzdb')
        self.submit()
        self.detail_tab(NAME, 'database_tab', 'hzdb')
        return 'hzdb'

    def create_user(self):
        self.goto('/project/databases/%s/create_user' % self.ids[NAME])
        self.page.fill('#id_name', 'hzuser')
        self.page.fill('#id_password', 'hz-Secret-1')
        self.page.fill('#id_databases', 'hzdb')
        self.submit()
        self.detail_tab(NAME, 'users_tab', 'hzuser')
        return 'hzuser'

    def create_backup(self):
        self.goto('/project/database_backups/create')
        self.page.fill('#id_name', BACKUP)
        self.page.select_option('#id_instance', self.ids[NAME])
        self.submit()
        row = self.wait_row('/project/database_backups/', BACKUP, r'\bCompleted\b')
        return row.inner_text().replace('\t', ' ')[:200]

    def restore(self):
        """Launch from the backup; the restored instance has the backup's database."""
        self.launch(RESTORED, backup=BACKUP)
        state = self.wait_active(RESTORED)
        self.detail_tab(RESTORED, 'database_tab', 'hzdb')
        return state

    def configuration_group(self):
        self.goto('/project/database_configurations/create')
        self.page.fill('#id_name', CONFIG)
        # Options are "mariadb,<version>" inside a "mariadb" optgroup.
        option = self.page.locator('#id_datastore option[value^="mariadb,"]').first
        self.page.select_option('#id_datastore', option.get_attribute('value'))
        self.submit()
        if not self.row(CONFIG).count():
            raise AssertionError('%s is not listed' % CONFIG)
        config_id = self.row(CONFIG).first.get_attribute('data-object-id')
        self.goto('/project/databases/%s/attach_config' % self.ids[NAME])
        self.page.select_option('#id_configuration', label=CONFIG)
        self.submit()
        self.goto('/project/databases/%s/' % self.ids[NAME])
        # The detail page names the attached group by its id.
        if config_id not in self.page.inner_text('#instance_details__overview'):
            raise AssertionError('the instance does not show %s (%s)' % (CONFIG, config_id))
        return '%s %s attached' % (CONFIG, config_id)

    def delete(self):
        self.goto('/project/databases/')
        for name in self.ids:
            # The checkbox is styled away; its label is what a user clicks.
            self.row(name).first.locator('td.multi_select_column label').click()
        self.page.click('#databases__action_delete')
        self.page.locator('.modal-footer .btn-danger, .modal-footer .btn-primary').first.click()
        self.page.wait_for_load_state('networkidle')
        deadline = time.time() + 300
        while time.time() < deadline:
            self.goto('/project/databases/')
            if not any(self.row(name).count() for name in self.ids):
                return 'deleted %d' % len(self.ids)
            time.sleep(3)
        raise AssertionError('instances still listed after 300 s')


def steps(flow, backups):
    """(name, callable) of the flow in order; the backup pair only with Swift."""
    out = [('login', flow.login), ('launch', flow.launch), ('active', flow.wait_active),
           ('database', flow.create_database), ('user', flow.create_user)]
    if backups:
        out += [('backup', flow.create_backup), ('restore', flow.restore)]
    return out + [('configuration', flow.configuration_group)]


def report(step, ok, detail, started):
    print(json.dumps({'step': step, 'ok': ok, 'detail': str(detail)[:500],
                      'seconds': round(time.time() - started, 1)}), flush=True)


def main():
    args = json.loads(sys.argv[1])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.get('chromium', '/usr/bin/chromium'),
                                     args=['--no-sandbox', '--disable-dev-shm-usage'])
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.set_default_timeout(60000)
        flow = Flow(page, args)
        for step, run in steps(flow, args['backups']):
            started = time.time()
            try:
                detail, ok = run(), True
            except Exception as exc:  # the report names the failure; the flow stops
                detail, ok = '%s: %s' % (type(exc).__name__, exc), False
            flow.screenshot(step)
            report(step, ok, detail, started)
            if not ok:
                break
        if flow.ids:
            started = time.time()
            try:
                detail, ok = flow.delete(), True
            except Exception as exc:
                detail, ok = '%s: %s' % (type(exc).__name__, exc), False
            flow.screenshot('delete')
            report('delete', ok, detail, started)
        browser.close()


if __name__ == '__main__':
    main()
