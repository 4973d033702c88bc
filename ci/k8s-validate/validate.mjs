// Validate Kubernetes manifests against the Kubernetes API schemas.
//
// Usage: node validate.mjs FILE.yaml...
//
// Every document of every file must be YAML without errors or warnings, and
// an object whose apiVersion and kind the kubernetes-models package knows;
// it is then checked against that kind's schema (unknown fields, wrong types,
// missing required fields, bad enum values).  YAML is read as YAML 1.1, as
// kubectl reads it (so 0440 is octal).  Exits 1 on the first bad file after
// reporting every problem in it.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.yaml...");
  process.exit(64);
}

// "batch/v1" -> "kubernetes-models/batch/v1"; "v1" -> "kubernetes-models/v1"
async function loadModel(apiVersion, kind) {
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind))
    return null;
  try {
    const mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
    return mod[kind] ?? null;
  } catch {
    return null;
  }
}

let failed = 0;
let checked = 0;
for (const file of files) {
  const problems = [];
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    failed++;
    continue;
  }
  const docs = parseAllDocuments(text, { version: "1.1", prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  let n = 0;
  for (const doc of list) {
    n++;
    const where = `${file}: document ${n}`;
    for (const e of [...doc.errors, ...doc.warnings])
      problems.push(`${where}: YAML: ${e.message}`);
    if (doc.errors.length > 0)
      continue;
    const obj = doc.toJS({ maxAliasCount: 0 });
    if (obj === null || obj === undefined) {
      problems.push(`${where}: empty document`);
      continue;
    }
    if (typeof obj !== "object" || Array.isArray(obj)) {
      problems.push(`${where}: not a mapping`);
      continue;
    }
    const { apiVersion, kind } = obj;
    const name = obj.metadata?.name ?? "(no name)";
    const Model = await loadModel(String(apiVersion), String(kind));
    if (Model === null) {
      problems.push(`${where}: unknown apiVersion/kind ${apiVersion}/${kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
      console.log(`  ok   ${file}: ${apiVersion} ${kind} ${name}`);
      checked++;
    } catch (e) {
      const details = Array.isArray(e.errors)
        ? e.errors.map((x) => `${x.instancePath || "/"} ${x.message}${x.params ? " " + JSON.stringify(x.params) : ""}`)
        : [e.message];
      for (const d of details)
        problems.push(`${where} (${kind} ${name}): ${d}`);
    }
  }
  for (const p of problems)
    console.error(`  FAIL ${p}`);
  if (problems.length > 0)
    failed++;
}
if (failed > 0) {
  console.error(`k8s-validate: ${failed} of ${files.length} file(s) invalid`);
  process.exit(1);
}
console.log(`k8s-validate: ${checked} object(s) in ${files.length} file(s) valid`);
