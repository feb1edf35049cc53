// data-pipelines export k8s FILE --shards N [--image IMG] [--volume-claim NAME]
// data-pipelines export github-actions FILE --shards N
// A sharded run as a Kubernetes Indexed Job plus a finalize Job, or as a GitHub Actions workflow.
import { githubWorkflow, kubernetesManifests } from '../../core/export/manifests';
import { loadPipelineFile } from '../../core/pipeline/validate';
import { UsageError } from '../args';
import { EXIT } from '../exit';
import { err, out } from '../output';
import type { CommandContext } from './context';

const KINDS = 'k8s or github-actions';

export async function exportCommand({ args: a }: CommandContext): Promise<number> {
  const [kind, file] = a.files;
  if (kind !== 'k8s' && kind !== 'github-actions') throw new UsageError(`export takes ${KINDS}, then the pipeline file: export k8s FILE --shards N`);
  if (!file) throw new UsageError(`export ${kind} needs the pipeline file: export ${kind} FILE --shards N`);
  if (a.shards === undefined) throw new UsageError(`export ${kind} needs --shards N (how many shards to run at once)`);
  const loaded = loadPipelineFile(file);
  if (!loaded.pipeline) {
    err(`${file}: the pipeline is invalid; fix it first (data-pipelines validate ${file}).`);
    return EXIT.failed;
  }
  out(kind === 'k8s' ? await kubernetesManifests(loaded, { shards: a.shards, image: a.image, volumeClaim: a.volumeClaim }) : await githubWorkflow(loaded, { shards: a.shards }));
  return EXIT.ok;
}
