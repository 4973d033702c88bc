// tour: drive dosnap-mock through every endpoint and check each response against the OpenAPI file.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const yaml = require('js-yaml');
const { OpenAPIBackend } = require('openapi-backend');
const addFormats = require('ajv-formats');

const srcdir = process.env.DOSNAP_SRCDIR || path.resolve(__dirname, '../..');
const mockBin = process.env.DOSNAP_MOCK_BIN || path.join(srcdir, 'build/dosnap-mock');
const specPath = process.env.DOSNAP_OPENAPI || path.join(srcdir, 'tests/conformance/openapi/do-openapi-dosnap.yaml');
const servedPath = path.join(srcdir, 'mock/served-operations.txt');
const fixture = path.join(srcdir, 'mock/fixtures/demo.json');
const TOKEN = 'conformance-token';
const verbose = !!process.env.CONFORMANCE_VERBOSE;

// --- the mock -------------------------------------------------------------------

const children = [];

async function startMock(extra) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dosnap-conf-'));
	const portFile = path.join(dir, 'port');
	// The tour expects a 422 while a power_off or a snapshot is in progress:
	// at the defaults (3 s and 20 s, 30 ms and 200 ms at this scale) a loaded
	// machine's next request can come after the action ended.  1.2 s is room.
	const args = ['--listen', '127.0.0.1:0', '--port-file', portFile, '--token', TOKEN,
		'--fixture', fixture, '--time-scale', '0.01',
		'--action-time', 'power_off=2m', '--action-time', 'snapshot=2m', ...extra];
	const child = spawn(mockBin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
	children.push(child);
	let exited = null;
	child.on('exit', (code) => { exited = code; });
	for (let i = 0; i < 200; i++) {
		if (exited !== null)
			throw new Error(`${mockBin} exited with ${exited} before listening`);
		if (fs.existsSync(portFile)) {
			const port = parseInt(fs.readFileSync(portFile, 'utf8'), 10);
			if (port > 0)
				return { child, base: `http://127.0.0.1:${port}`, dir };
		}
		await new Promise((r) => setTimeout(r, 25));
	}
	throw new Error(`${mockBin} did not write its port file`);
}

function stopAll() {
	for (const c of children)
		if (c.exitCode === null)
			c.kill('SIGTERM');
}

// --- checking ---------------------------------------------------------------------

class Checker {
	constructor(api) {
		this.api = api;
		this.checked = 0;
		this.violations = [];
		this.operationsSeen = new Set();
		this.statusesSeen = new Set();
	}

	fail(what, msg) {
		this.violations.push(`${what}: ${msg}`);
	}

	// Check one exchange.  FALLBACK names the operation whose error responses
	// describe a reply to a path or method the file does not have (404, 405).
	check(method, url, res, text, fallback) {
		const u = new URL(url);
		const what = `${method} ${u.pathname}${u.search} -> ${res.status}`;
		const headers = {};
		res.headers.forEach((v, k) => { headers[k] = v; });
		const query = Object.fromEntries(u.searchParams.entries());
		let op = this.api.matchOperation({ method, path: u.pathname, query, headers });
		this.checked++;
		this.statusesSeen.add(res.status);
		if (verbose)
			console.log(`  ${what}`);
		if (!op) {
			if (res.status !== 404 && res.status !== 405) {
				this.fail(what, 'no operation in the OpenAPI file matches, yet the answer is not 404 or 405');
				return null;
			}
			op = this.api.getOperation(fallback || 'droplets_get');
		} else {
			this.operationsSeen.add(op.operationId);
		}
		const listed = Object.keys(op.responses || {});
		const code = String(res.status);
		if (!listed.includes(code) && !(listed.includes('default') && res.status >= 400))
			this.fail(what, `status ${code} is not among ${op.operationId}'s responses (${listed.join(', ')})`);

		// The service's own promises (tests/conformance/openapi/README.md).
		for (const h of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'x-request-id'])
			if (headers[h] === undefined)
				this.fail(what, `header ${h} missing`);
		let body;
		if (res.status === 204) {
			if (text.length !== 0)
				this.fail(what, '204 with a body');
		} else {
			// The service sends the charset; some clients decode by it.
			if (!/^application\/json; *charset=utf-8$/i.test(headers['content-type'] || ''))
				this.fail(what, `Content-Type is '${headers['content-type']}', not application/json; charset=utf-8`);
			try {
				body = JSON.parse(text);
			} catch (e) {
				this.fail(what, `body is not JSON: ${e.message}`);
				return null;
			}
			if (res.status >= 400 && body.request_id !== headers['x-request-id'])
				this.fail(what, `error request_id '${body.request_id}' differs from x-request-id '${headers['x-request-id']}'`);
		}

		// The OpenAPI file itself: body schema for the status, and headers.
		if (body !== undefined) {
			const vr = this.api.validateResponse(body, op, res.status);
			if (vr.errors)
				for (const e of vr.errors)
					this.fail(what, `body ${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
		}
		const vh = this.api.validateResponseHeaders(headers, op, { statusCode: res.status, setMatchType: 'superset' });
		if (vh.errors)
			for (const e of vh.errors)
				this.fail(what, `headers ${e.instancePath || '/'} ${e.message}`);
		return body;
	}
}

async function call(ck, base, method, p, opts = {}) {
	const headers = {};
	if (opts.auth !== null)
		headers.Authorization = opts.auth || `Bearer ${TOKEN}`;
	let body;
	if (opts.body !== undefined) {
		headers['Content-Type'] = 'application/json';
		body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
	}
	const url = p.startsWith('http') ? p : base + p;
	const res = await fetch(url, { method, headers, body });
	const text = await res.text();
	const json = ck.check(method, url, res, text, opts.fallback);
	if (opts.expect !== undefined && res.status !== opts.expect)
		ck.fail(`${method} ${p}`, `status ${res.status}, the tour expected ${opts.expect}`);
	return { status: res.status, json };
}

// Follow links.pages.next from P to the end; returns the items under KEY.
async function walk(ck, base, p, key) {
	const items = [];
	let next = p, pages = 0, total;
	while (next) {
		const r = await call(ck, base, 'GET', next, { expect: 200 });
		if (!r.json)
			break;
		items.push(...(r.json[key] || []));
		total = r.json.meta && r.json.meta.total;
		next = r.json.links && r.json.links.pages && r.json.links.pages.next;
		if (++pages > 100) {
			ck.fail(p, 'more than 100 pages');
			break;
		}
	}
	if (items.length !== total)
		ck.fail(p, `walked ${items.length} items over ${pages} pages, meta.total says ${total}`);
	return { items, pages };
}

async function waitAction(ck, base, id) {
	for (let i = 0; i < 300; i++) {
		const r = await call(ck, base, 'GET', `/v2/actions/${id}`, { expect: 200 });
		if (r.json && r.json.action && r.json.action.status !== 'in-progress')
			return r.json.action.status;
		await new Promise((res) => setTimeout(res, 20));
	}
	return 'in-progress';
}

// --- the tour --------------------------------------------------------------------------

async function tour(ck, base) {
	const web1 = 310000001, staging = 310000005, db = 310000003;
	const vol = '506f78a4-e098-11e5-ad9f-000f53306ae1';

	// Account and auth.
	await call(ck, base, 'GET', '/v2/account', { expect: 200 });
	await call(ck, base, 'GET', '/v2/account', { auth: null, expect: 401 });
	await call(ck, base, 'GET', '/v2/droplets', { auth: 'Bearer not-the-token', expect: 401 });

	// Droplets, filters, pagination over several pages.
	const all = await walk(ck, base, '/v2/droplets?per_page=2', 'droplets');
	if (all.pages !== 3)
		ck.fail('/v2/droplets?per_page=2', `${all.pages} pages, expected 3`);
	await call(ck, base, 'GET', '/v2/droplets', { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets?tag_name=env%3Aprod&per_page=3', { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets?tag_name=env%3Aprod&page=2&per_page=3', { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets?name=web-1', { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets?type=gpus', { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets?page=9', { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets?per_page=0', { expect: 400 });

	// Where the service's description is plain: a trailing slash on its core
	// routes is accepted, the name filter ignores case, and tag_name "can not
	// be combined with name or type" (a 4xx, which the file's default covers).
	await call(ck, base, 'GET', '/v2/account/', { expect: 200 });
	const slashed = await call(ck, base, 'GET', '/v2/droplets/?per_page=2', { expect: 200 });
	if (!slashed.json || !Array.isArray(slashed.json.droplets) || slashed.json.droplets.length !== 2)
		ck.fail('GET /v2/droplets/?per_page=2', 'not the first two droplets');
	await call(ck, base, 'GET', `/v2/droplets/${web1}/`, { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets/9/', { expect: 404 });
	const byName = await call(ck, base, 'GET', '/v2/droplets?name=WEB-1', { expect: 200 });
	const named = (byName.json && byName.json.droplets) || [];
	if (named.length !== 1 || named[0].name !== 'web-1')
		ck.fail('GET /v2/droplets?name=WEB-1', `${named.length} droplets, expected web-1 alone (the filter is case-insensitive)`);
	await call(ck, base, 'GET', '/v2/droplets?tag_name=web&name=web-1', { expect: 400 });
	await call(ck, base, 'GET', '/v2/droplets?tag_name=web&type=droplets', { expect: 400 });
	await call(ck, base, 'GET', `/v2/droplets/${web1}`, { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets/310000006', { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets/9', { expect: 404 });
	await call(ck, base, 'DELETE', `/v2/droplets/${web1}`, { expect: 405 });
	await call(ck, base, 'GET', '/v2/nothing', { expect: 404 });

	// Actions on one droplet: 201, the 422 for a pending event, lookups.
	await call(ck, base, 'GET', `/v2/droplets/${web1}/actions`, { expect: 200 });
	const a1 = await call(ck, base, 'POST', `/v2/droplets/${web1}/actions`, { body: { type: 'power_off' }, expect: 201 });
	await call(ck, base, 'POST', `/v2/droplets/${web1}/actions/`, { body: { type: 'snapshot', name: 'x' }, expect: 422 });
	await call(ck, base, 'POST', `/v2/droplets/${web1}/actions`, { body: 'not json', expect: 400 });
	await call(ck, base, 'POST', `/v2/droplets/${db}/actions`, { body: {}, expect: 422 });
	await call(ck, base, 'POST', '/v2/droplets/9/actions', { body: { type: 'power_on' }, expect: 404 });
	const aid = a1.json && a1.json.action ? a1.json.action.id : 1;
	await call(ck, base, 'GET', `/v2/droplets/${web1}/actions/${aid}`, { expect: 200 });
	await call(ck, base, 'GET', `/v2/droplets/${db}/actions/${aid}`, { expect: 404 });
	await call(ck, base, 'GET', `/v2/droplets/${web1}/actions`, { expect: 200 });
	await waitAction(ck, base, aid);
	for (const type of ['power_on', 'shutdown', 'power_cycle', 'reboot']) {
		const slash = type === 'shutdown' ? '/' : '';
		const r = await call(ck, base, 'POST', `/v2/droplets/${web1}/actions${slash}`, { body: { type }, expect: 201 });
		if (r.json && r.json.action)
			await waitAction(ck, base, r.json.action.id);
	}

	// By tag, then snapshots appear in both lists.
	const t = await call(ck, base, 'POST', '/v2/droplets/actions?tag_name=env%3Astaging',
		{ body: { type: 'snapshot', name: 'conformance-snap' }, expect: 201 });
	await call(ck, base, 'POST', '/v2/droplets/actions?tag_name=env%3Astaging', { body: { type: 'power_off' }, expect: 422 });
	await call(ck, base, 'GET', '/v2/droplets/actions', { expect: 405, fallback: 'dropletActions_post_byTag' });
	for (const a of (t.json && t.json.actions) || [])
		await waitAction(ck, base, a.id);
	await walk(ck, base, '/v2/actions?per_page=3', 'actions');
	await call(ck, base, 'GET', `/v2/actions/${aid}`, { expect: 200 });
	await call(ck, base, 'GET', '/v2/actions/1', { expect: 404 });

	const ds = await call(ck, base, 'GET', `/v2/droplets/${staging}/snapshots`, { expect: 200 });
	await call(ck, base, 'GET', `/v2/droplets/${web1}/snapshots?per_page=1`, { expect: 200 });
	await call(ck, base, 'GET', '/v2/droplets/9/snapshots', { expect: 404 });
	await walk(ck, base, '/v2/snapshots?per_page=2', 'snapshots');
	await call(ck, base, 'GET', '/v2/snapshots?resource_type=droplet', { expect: 200 });
	await call(ck, base, 'GET', '/v2/snapshots?resource_type=volume', { expect: 200 });
	const sid = ds.json && ds.json.snapshots && ds.json.snapshots[0] ? ds.json.snapshots[0].id : 1;
	await call(ck, base, 'GET', `/v2/snapshots/${sid}`, { expect: 200 });
	await call(ck, base, 'GET', '/v2/snapshots/170000102', { expect: 400 });
	await call(ck, base, 'DELETE', `/v2/snapshots/${sid}/`, { expect: 204 });
	await call(ck, base, 'GET', `/v2/snapshots/${sid}`, { expect: 404 });
	await call(ck, base, 'DELETE', `/v2/snapshots/${sid}/`, { expect: 404 });
	await call(ck, base, 'PUT', `/v2/snapshots/${sid}`, { body: {}, expect: 405, fallback: 'snapshots_get' });

	// Volumes and their snapshots.
	await call(ck, base, 'GET', '/v2/volumes', { expect: 200 });
	await call(ck, base, 'GET', '/v2/volumes?name=db-data', { expect: 200 });
	await call(ck, base, 'GET', '/v2/volumes?region=fra1', { expect: 200 });
	await call(ck, base, 'GET', `/v2/volumes/${vol}`, { expect: 200 });
	await call(ck, base, 'GET', '/v2/volumes/00000000-0000-4000-8000-000000000000', { expect: 404 });
	await call(ck, base, 'GET', `/v2/volumes/${vol}/snapshots`, { expect: 200 });
	const vs = await call(ck, base, 'POST', `/v2/volumes/${vol}/snapshots`,
		{ body: { name: 'conformance-vol', tags: ['dosnap'] }, expect: 201 });
	await call(ck, base, 'POST', `/v2/volumes/${vol}/snapshots`, { body: {}, expect: 400 });
	const vsid = vs.json && vs.json.snapshot ? vs.json.snapshot.id : 'x';
	await call(ck, base, 'GET', `/v2/volumes/snapshots/${vsid}`, { expect: 200 });
	await call(ck, base, 'GET', `/v2/snapshots/${vsid}`, { expect: 200 });
	await call(ck, base, 'DELETE', `/v2/volumes/snapshots/${vsid}`, { expect: 204 });
	await call(ck, base, 'GET', `/v2/volumes/snapshots/${vsid}`, { expect: 404 });
	await call(ck, base, 'DELETE', `/v2/volumes/snapshots/${vsid}`, { expect: 404 });

	// Injected server errors still answer as the file describes.
	for (const kind of ['500', '502', '503', '429']) {
		await fetch(`${base}/__mock/faults`, { method: 'POST', body: `kind=${kind},path=/v2/account,once` });
		await call(ck, base, 'GET', '/v2/account', { expect: parseInt(kind, 10) });
	}
}

// A mock with a burst limit of 3 a minute: the fourth request gets 429 with retry-after.
async function rateTour(ck, base) {
	for (let i = 0; i < 3; i++)
		await call(ck, base, 'GET', `/v2/droplets/310000001`, { expect: 200 });
	const res = await fetch(`${base}/v2/droplets/310000001`, { headers: { Authorization: `Bearer ${TOKEN}` } });
	const text = await res.text();
	ck.check('GET', `${base}/v2/droplets/310000001`, res, text);
	if (res.status !== 429)
		ck.fail('rate limit', `status ${res.status}, expected 429`);
	if (!res.headers.get('retry-after'))
		ck.fail('rate limit', 'no retry-after on the burst-limit 429');
}

async function runOnce(api, extra, limitedExtra) {
	const ck = new Checker(api);
	const main = await startMock(extra);
	await tour(ck, main.base);
	const limited = await startMock([...extra, ...limitedExtra]);
	await rateTour(ck, limited.base);
	stopAll();
	return ck;
}

async function main() {
	if (!fs.existsSync(specPath)) {
		console.error(`conformance: cannot find the OpenAPI file '${specPath}' (set DOSNAP_OPENAPI or DOSNAP_SRCDIR)`);
		process.exit(2);
	}
	const definition = yaml.load(fs.readFileSync(specPath, 'utf8'));
	const api = new OpenAPIBackend({
		definition, strict: false, quick: false, validate: true,
		// Check date-time, uuid, ipv4 and the rest for real; OpenAPI's numeric
		// formats (float, int32...) only restate the type.
		customizeAjv: (ajv) => {
			addFormats(ajv);
			for (const f of ['float', 'double', 'int32', 'int64'])
				ajv.addFormat(f, true);
			return ajv;
		},
	});
	await api.init();

	const drift = process.env.CONFORMANCE_DRIFT === '1';
	const extra = drift ? ['--debug-drift'] : [];
	const ck = await runOnce(api, [...extra, '--rate-limit-minute', 'off'], ['--rate-limit-minute', '3']);

	// Strict on what the mock serves (mock/served-operations.txt); the rest
	// of the file is reported, so a feature that serves one moves it over.
	const ops = api.getOperations().map((o) => o.operationId);
	const served = fs.readFileSync(servedPath, 'utf8').split('\n')
		.map((l) => l.replace(/#.*/, '').trim()).filter((l) => l.length > 0);
	for (const o of served)
		if (!ops.includes(o))
			ck.fail('tour', `${path.basename(servedPath)} lists ${o}, which ${path.basename(specPath)} does not describe`);
	const missed = served.filter((o) => !ck.operationsSeen.has(o));
	if (missed.length > 0)
		ck.fail('tour', `never reached: ${missed.join(', ')}`);
	const unserved = ops.filter((o) => !served.includes(o));
	for (const o of unserved)
		if (ck.operationsSeen.has(o))
			ck.fail('tour', `${o} answered, but ${path.basename(servedPath)} does not list it as served`);
	if (unserved.length > 0)
		console.log(`conformance: described, not served yet (${unserved.length}): ${unserved.join(', ')}`);
	for (const s of [200, 201, 204, 400, 401, 404, 405, 422, 429])
		if (!ck.statusesSeen.has(s))
			ck.fail('tour', `never saw status ${s}`);
	for (const v of ck.violations.slice(0, 50))
		console.log(`VIOLATION ${v}`);
	if (ck.violations.length > 50)
		console.log(`... and ${ck.violations.length - 50} more`);
	console.log(`conformance${drift ? ' (drift mode)' : ''}: ${ck.checked} responses over ${ck.operationsSeen.size}/${served.length} served operations checked against ${path.basename(specPath)}: ${ck.violations.length} violations`);
	process.exit(ck.violations.length === 0 ? 0 : 1);
}

process.on('exit', stopAll);
main().catch((e) => {
	console.error(`conformance: ${e.stack || e}`);
	stopAll();
	process.exit(2);
});
