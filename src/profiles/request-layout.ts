import type { ExportFormat, ExportKind } from '../entities/enums';
import { badInput } from '../errors';
import { resolveExportFormat } from '../exports/kinds';
import type { FileLayout } from './file-layout';
import { buildLayout, validateColumnChoice, validateCsvOptions, type LayoutInput } from './layout-input';
import { layoutOfProfile, type ProfileService } from './profile.service';

export interface LayoutRequest extends LayoutInput {
  kind: ExportKind;
  format?: ExportFormat | null;
  locale?: string | null;
  profileId?: string | null;
}

/**
 * The format, locale and layout of a requested export. With a profile, its
 * settings apply as they are now (and are recorded on the export); an
 * inline `columns` or `csv` of the request overrides the profile's. A
 * profile of another kind, or a format other than the profile's, is refused.
 */
export async function layoutOfRequest(
  profiles: ProfileService,
  tenantId: string,
  req: LayoutRequest,
): Promise<{ format: ExportFormat; locale: string; layout: FileLayout | null }> {
  if (!req.profileId) {
    const format = resolveExportFormat(req.kind, req.format);
    return { format, locale: req.locale ?? 'fr-FR', layout: buildLayout(req.kind, format, req) };
  }
  const profile = await profiles.getOrFail(tenantId, req.profileId, 'profileId');
  if (profile.kind !== req.kind) {
    throw badInput(`profileId: the profile "${profile.name}" exports ${profile.kind}, not ${req.kind}`, { field: 'profileId' });
  }
  if (req.format && req.format !== profile.format) {
    throw badInput(`format: the profile "${profile.name}" writes ${profile.format}, not ${req.format}`, { field: 'format' });
  }
  const layout = layoutOfProfile(profile);
  if (req.columns) layout.columns = validateColumnChoice(req.kind, profile.format, req.columns);
  if (req.csv) layout.csv = validateCsvOptions(profile.format, req.csv);
  if (req.fileNamePattern) layout.fileNamePattern = buildLayout(req.kind, profile.format, { fileNamePattern: req.fileNamePattern })!.fileNamePattern;
  return { format: profile.format, locale: profile.locale, layout };
}
