// What commands need besides the ExtensionContext; built once in activate().
import type { ExplorerPanels } from './views/explorerPanel';
import type { PreviewPanels } from './views/previewPanel';
import type { RunReportProvider } from './views/runReport';
import type { Services } from './services';

export interface Deps {
  svc: Services;
  previews: PreviewPanels;
  explorers: ExplorerPanels;
  reports: RunReportProvider;
}
