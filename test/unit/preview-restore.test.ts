// The preview panel's restore after a window reload: what the page's saved state must hold.
import * as assert from 'node:assert/strict';
import { restorableSource } from '../../src/webview/protocol';

describe('preview webview: restoring from the saved state', () => {
  const uri = 'file:///work/demo/data.pipeline.json';

  it('returns the pipeline (and steps) the page saved', () => {
    assert.deepEqual(restorableSource({ search: '', action: '', category: '', label: '', scrollTop: 0, source: { pipelineUri: uri } }), { pipelineUri: uri });
    assert.deepEqual(restorableSource({ source: { pipelineUri: uri, steps: ['Fetch images'] } }), { pipelineUri: uri, steps: ['Fetch images'] });
    assert.deepEqual(restorableSource({ source: { pipelineUri: uri, steps: [] } }), { pipelineUri: uri }, 'no steps means the whole pipeline');
  });

  it('rejects states without a usable source (older pages, nothing loaded yet)', () => {
    for (const state of [undefined, null, {}, { search: 'x', scrollTop: 3 }, { source: {} }, { source: { pipelineUri: '' } }, { source: { pipelineUri: 42 } }, 'text']) {
      assert.equal(restorableSource(state), undefined, JSON.stringify(state));
    }
    assert.deepEqual(restorableSource({ source: { pipelineUri: uri, steps: ['a', 3] } }), { pipelineUri: uri }, 'malformed steps fall back to the whole pipeline');
  });
});
