import { writeFileAtomic } from '../io/atomic-write.js';
import { renderHtmlReport, type ReportData } from './html-report.js';

/** Renders the HTML report and writes it atomically (a crash leaves the old file or the new one). */
export async function writeHtmlReport(file: string, data: ReportData): Promise<void> {
  await writeFileAtomic(file, renderHtmlReport(data));
}
