// Constants shared by the core, the editor and the webviews (no imports: safe in any bundle).

/** The label shown for samples without one, in counts and previews. */
export const UNLABELED = '(unlabeled)';
