// The Data Explorer page's markup (its body), shared by the extension's webview and the render
// benchmark, which loads the same page in Chromium.
const sel = (id: string, label: string) => `<vscode-single-select id="${id}" aria-label="${label}"></vscode-single-select>`;

export const EXPLORER_BODY = `<section id="status" data-kind="loading"><vscode-progress-ring></vscode-progress-ring><h2 id="status-title">Data Explorer</h2><p id="status-message">Loading…</p></section>
<main id="content" hidden>
  <header class="head">
    <div><h1 id="title"></h1><div id="subtitle" class="muted"></div></div>
    <div><vscode-button id="reset-view" secondary icon="screen-full">Fit</vscode-button> <vscode-button id="refresh" icon="refresh">Refresh map</vscode-button></div>
  </header>
  <div class="toolbar">
    ${sel('filter-label', 'Label')} ${sel('filter-category', 'Category')} ${sel('filter-finding', 'Finding')}
    <vscode-button id="select-shown" secondary>Select shown</vscode-button>
    <span class="sep"></span>
    <vscode-textfield id="label-input" placeholder="Label for the selection" aria-label="Label for the selection"></vscode-textfield>
    <vscode-button id="assign" icon="tag">Assign label</vscode-button>
    <vscode-button id="unlabel" secondary>Unlabel</vscode-button>
    <vscode-single-select id="move-category" aria-label="Move to category"><vscode-option value="training">training</vscode-option><vscode-option value="validation">validation</vscode-option><vscode-option value="testing">testing</vscode-option></vscode-single-select>
    <vscode-button id="move" secondary icon="arrow-right">Move</vscode-button>
    <vscode-button id="undo" secondary icon="discard" disabled>Undo</vscode-button>
  </div>
  <div id="legend"></div>
  <div class="stage">
    <canvas id="map" aria-label="Map of every sample: click to select, Shift-drag to lasso, drag to pan, wheel to zoom"></canvas>
    <div id="tip" hidden><img id="tip-img" alt=""><div id="tip-path"></div><div id="tip-meta" class="muted"></div></div>
  </div>
  <div class="foot"><span id="shown-count" class="muted"></span><span id="selected-count"></span><span id="quality" class="muted"></span><span id="message"></span></div>
</main>`;
