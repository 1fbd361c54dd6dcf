// Validates every object of the Kubernetes manifests given as arguments
// against the Kubernetes API's JSON schemas (kubernetes-models), and exits
// non-zero naming the object and the error when one is invalid.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { Job } from "kubernetes-models/batch/v1";
import { PersistentVolumeClaim, ConfigMap, Secret } from "kubernetes-models/v1";

const kinds = { "batch/v1/Job": Job, "v1/PersistentVolumeClaim": PersistentVolumeClaim, "v1/ConfigMap": ConfigMap, "v1/Secret": Secret };
let failed = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) {
      console.error(`${file}: ${doc.errors[0].message}`);
      failed++;
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    const Model = kinds[`${obj.apiVersion}/${obj.kind}`];
    const name = `${file}: ${obj.kind} ${obj.metadata?.name}`;
    if (!Model) {
      console.error(`${name}: no schema for ${obj.apiVersion} ${obj.kind}`);
      failed++;
      continue;
    }
    try {
      new Model(obj).validate();
      checked++;
    } catch (e) {
      console.error(`${name}: ${e.message}`);
      failed++;
    }
  }
}
console.log(`${checked} objects valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);
