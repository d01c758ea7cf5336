using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;

namespace AgentGovernance.Compliance;

/// <summary>
/// The files of a compliance report: one self-contained HTML page (no external assets, no script
/// that reads data: the rows are HTML, the script only sorts and hides them), the report's JSON, and
/// JUnit XML for CI test tabs. Directory text is made visible (SafeText) and then escaped for the
/// context it lands in.
/// </summary>
internal static class ComplianceOutput
{
    /// <summary>html, json or junit, from a path's extension (.html/.htm, .json, .xml); null for another.</summary>
    public static string? FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => "html",
        ".json" => "json",
        ".xml" => "junit",
        _ => null,
    };

    /// <summary>
    /// Writes a report file's bytes (UTF-8, no BOM) to a stream as they are made: the HTML in pieces of
    /// <see cref="SpillAt"/> characters, the JSON token by token from the canonical bytes, the JUnit XML through
    /// its writer. No whole-report string or buffer (the command writes through <see cref="IO.AtomicFile"/>, so a
    /// failure part way leaves the old file, never half a report).
    /// </summary>
    public static void Write(string format, ComplianceReport report, IReadOnlyList<ComplianceRun> history, Stream stream)
    {
        switch (format)
        {
            case "html":
                using (var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
                {
                    Html(report, history, w);
                }

                break;
            case "json":
                report.WriteJson(stream);
                break;
            case "junit":
                JUnit(report, stream);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Not an output format.");
        }
    }

    /// <summary>How many characters of HTML are built before they go to the file.</summary>
    internal static int SpillAt = 1 << 16;

    /// <summary>Text for an HTML text node or a quoted attribute: controls and bidi made visible, then &amp; &lt; &gt; &quot; &#39; escaped.</summary>
    internal static string H(string? text)
    {
        var shown = Display.SafeText.Show(text);
        var sb = new StringBuilder(shown.Length + 8);
        foreach (var c in shown)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default: sb.Append(c); break;
            }
        }

        return sb.ToString();
    }

    private static string Value(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        System.Collections.IEnumerable list => string.Join(", ", list.Cast<object?>().Select(Value)),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static void Html(ComplianceReport report, IReadOnlyList<ComplianceRun> history, TextWriter writer)
    {
        var sb = new StringBuilder();
        void Spill()
        {
            if (sb.Length >= SpillAt)
            {
                writer.Write(sb);
                sb.Clear();
            }
        }

        var tenant = report.TenantName is null ? report.TenantId : $"{report.TenantName} ({report.TenantId})";
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
        sb.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'none'\">\n");
        sb.Append("<title>Compliance audit of ").Append(H(tenant)).Append("</title>\n<style>\n").Append(Style).Append("</style></head><body>\n");
        sb.Append("<h1>Compliance audit of ").Append(H(tenant)).Append("</h1>\n");
        sb.Append("<p class=\"meta\">").Append(H(GovernanceClock.Format(report.AuditedAt))).Append(" · directory ").Append(H(report.Directory))
            .Append(" · policy ").Append(H(report.Policy)).Append(" · report <code>").Append(H(report.ReportHash)).Append("</code></p>\n");
        if (report.Coverage is { } coverage)
        {
            // A live session's audit: the inventory it stood on, and each resource read again live with its outcome.
            sb.Append("<p class=\"coverage\">Audited over ").Append(H(coverage.ToString())).Append(".</p>\n");
            if (coverage.Gaps.Count > 0 || coverage.ReadLive.Count > 0)
            {
                sb.Append("<details class=\"coverage\"><summary>Inventory gaps and live re-reads</summary><ul>");
                foreach (var gap in coverage.Gaps.Take(ComplianceAudit.SampleSize * 5))
                {
                    sb.Append("<li class=\"gap\">").Append(H(gap)).Append("</li>");
                }

                foreach (var (resource, outcome) in coverage.ReadLive)
                {
                    sb.Append("<li><code>").Append(H(resource)).Append("</code> ").Append(H(outcome)).Append("</li>");
                }

                sb.Append("</ul></details>\n");
            }
        }


        // Summary first.
        sb.Append("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
        foreach (var severity in new[] { ComplianceSeverity.Critical, ComplianceSeverity.High, ComplianceSeverity.Medium, ComplianceSeverity.Low, ComplianceSeverity.Info })
        {
            sb.Append("<div class=\"card sev-").Append(severity).Append("\"><b>").Append(report.Count(severity)).Append("</b>").Append(severity).Append("</div>");
        }

        sb.Append("</div><p>").Append(report.Count(FindingStatus.New)).Append(" new, ").Append(report.Count(FindingStatus.Persisting)).Append(" persisting, ")
            .Append(report.Count(FindingStatus.Resolved)).Append(" resolved, ").Append(report.Count(FindingStatus.Accepted)).Append(" accepted")
            .Append(report.Previous is null ? " (the first audit of this tenant in this store)" : $" since the audit of {H(GovernanceClock.Format(report.Previous.AuditedAt))}").Append(".</p></section>\n");

        // Findings: sortable (click a heading) and filterable (text box, severity, status).
        sb.Append("<section id=\"findings\"><h2>Findings</h2>\n<div class=\"filters\"><input id=\"q\" type=\"search\" placeholder=\"Filter findings\" aria-label=\"Filter findings\">");
        sb.Append("<select id=\"sev\" aria-label=\"Severity\"><option value=\"\">Any severity</option>");
        foreach (var s in Enumerable.Reverse(Enum.GetNames(typeof(ComplianceSeverity))))
        {
            sb.Append("<option>").Append(s).Append("</option>");
        }

        sb.Append("</select><select id=\"st\" aria-label=\"Status\"><option value=\"\">Any status</option>");
        foreach (var s in Enum.GetNames(typeof(FindingStatus)))
        {
            sb.Append("<option>").Append(s).Append("</option>");
        }

        sb.Append("</select> <span id=\"shown\"></span></div>\n<table id=\"findings-table\"><thead><tr>");
        foreach (var (label, key) in new[] { ("Severity", "num"), ("Status", "text"), ("Check", "text"), ("Target", "text"), ("Finding", "text"), ("Fix", "text") })
        {
            sb.Append("<th data-sort=\"").Append(key).Append("\" tabindex=\"0\">").Append(label).Append("</th>");
        }

        sb.Append("</tr></thead><tbody>\n");
        foreach (var f in report.Findings)
        {
            sb.Append("<tr class=\"finding\" data-severity=\"").Append(f.Severity).Append("\" data-status=\"").Append(f.Status).Append("\">");
            sb.Append("<td data-value=\"").Append((int)f.Severity).Append("\"><span class=\"badge sev-").Append(f.Severity).Append("\">").Append(f.Severity).Append("</span></td>");
            sb.Append("<td>").Append(f.Status).Append("</td>");
            sb.Append("<td title=\"").Append(H(ComplianceCheck.All.FirstOrDefault(c => c.Id == f.CheckId)?.Description)).Append("\">").Append(H(f.CheckId)).Append(' ').Append(H(f.Check)).Append("</td>");
            sb.Append("<td><a href=\"#r-").Append(Anchor(f.Target)).Append("\">").Append(H(f.TargetName)).Append("</a></td>");
            sb.Append("<td class=\"msg\">").Append(H(f.Message)).Append("</td>");
            sb.Append("<td>").Append(f.Remediation is null ? "" : "yes").Append("</td></tr>\n");
            Spill();
        }

        sb.Append("</tbody></table></section>\n");

        // Per-resource detail: every finding of a target with its evidence and remediation.
        sb.Append("<section id=\"detail\"><h2>Detail by target</h2>\n");
        foreach (var group in report.Findings.GroupBy(f => f.Target, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var first = group.First();
            sb.Append("<details class=\"target\" id=\"r-").Append(Anchor(group.Key)).Append("\"><summary>").Append(H(first.TargetName))
                .Append(" <code>").Append(H(group.Key)).Append("</code> · ").Append(group.Count()).Append(" finding(s)</summary>\n");
            foreach (var f in group)
            {
                sb.Append("<div class=\"finding-detail\"><h3><span class=\"badge sev-").Append(f.Severity).Append("\">").Append(f.Severity).Append("</span> ")
                    .Append(H(f.Id)).Append(" · ").Append(f.Status).Append("</h3><p>").Append(H(f.Message)).Append("</p><dl>");
                foreach (var e in f.Evidence)
                {
                    sb.Append("<dt>").Append(H(e.Key)).Append("</dt><dd>").Append(H(Value(e.Value))).Append("</dd>");
                }

                sb.Append("<dt>evidenceHash</dt><dd><code>").Append(H(f.EvidenceHash)).Append("</code></dd></dl>");
                if (f.Status == FindingStatus.Accepted && f.Acceptance is { } accepted)
                {
                    sb.Append("<p class=\"accepted\"><b>Accepted</b> until ").Append(H(GovernanceClock.Format(accepted.AcceptedUntil!.Value))).Append(" by ")
                        .Append(H(string.Join(", ", accepted.AcceptedBy))).Append(": ").Append(H(accepted.Reason)).Append("</p>");
                }

                if (f.Remediation is { } change)
                {
                    sb.Append("<p><b>Remediation</b> <code>").Append(H(change.Id)).Append("</code></p><ul>");
                    foreach (var op in change.Operations)
                    {
                        sb.Append("<li>").Append(H(op.ToString())).Append("</li>");
                    }

                    sb.Append("</ul>");
                }

                if (f.RemediationHint is { } hint)
                {
                    sb.Append("<p class=\"hint\">").Append(H(hint)).Append("</p>");
                }

                sb.Append("</div>\n");
            }

            sb.Append("</details>\n");
            Spill();
        }

        sb.Append("</section>\n");

        // Timeline: the past runs of this tenant in this store, and this one.
        sb.Append("<section id=\"timeline\"><h2>Timeline</h2><ol class=\"timeline\">\n");
        foreach (var run in history)
        {
            sb.Append("<li><time>").Append(H(GovernanceClock.Format(run.AuditedAt))).Append("</time> #").Append(run.Sequence).Append(" · ")
                .Append(run.Critical).Append(" Critical, ").Append(run.High).Append(" High, ").Append(run.Medium).Append(" Medium, ").Append(run.Low).Append(" Low; ")
                .Append(run.New).Append(" new, ").Append(run.Resolved.Count).Append(" resolved · by ").Append(H(run.Actor)).Append("</li>\n");
        }

        sb.Append("<li class=\"now\"><time>").Append(H(GovernanceClock.Format(report.AuditedAt))).Append("</time> this audit · ")
            .Append(report.Count(ComplianceSeverity.Critical)).Append(" Critical, ").Append(report.Count(ComplianceSeverity.High)).Append(" High, ")
            .Append(report.Count(ComplianceSeverity.Medium)).Append(" Medium, ").Append(report.Count(ComplianceSeverity.Low)).Append(" Low; ")
            .Append(report.Count(FindingStatus.New)).Append(" new, ").Append(report.Count(FindingStatus.Resolved)).Append(" resolved</li>\n</ol></section>\n");
        if (report.Reconciliation is { } rec)
        {
            // The reconciliation timeline: every access-changing event of the window, oldest first, with its class.
            sb.Append("<section id=\"reconciliation\"><h2>Reconciliation with the audit log</h2><p>")
                .Append(H(GovernanceClock.Format(rec.From))).Append(" to ").Append(H(GovernanceClock.Format(rec.Until))).Append(" · ")
                .Append(rec.Count(ReconciliationClass.Governed)).Append(" governed, ").Append(rec.Count(ReconciliationClass.AroundPipeline)).Append(" around the pipeline, ")
                .Append(rec.Count(ReconciliationClass.OwnIdentity)).Append(" by the module's own identity · ").Append(rec.Read).Append(" read, ").Append(rec.Duplicates).Append(" duplicate(s)</p>");
            sb.Append("<ul class=\"sources\">");
            foreach (var x in rec.Sources)
            {
                sb.Append("<li class=\"").Append(x.Problem is null ? "read" : "unread").Append("\">").Append(H(x.Title)).Append(" · ")
                    .Append(H(GovernanceClock.Format(x.From))).Append(" to ").Append(H(GovernanceClock.Format(x.Until))).Append(" · ")
                    .Append(x.Problem is null ? $"read, {x.Read} record(s)" : "not read: " + H(x.Problem)).Append("</li>");
            }

            sb.Append("</ul>");
            if (rec.Gap is { } gap)
            {
                sb.Append("<p class=\"gap\">").Append(H(gap)).Append("</p>");
            }

            sb.Append("<table class=\"reconciliation\"><thead><tr><th>Time</th><th>Class</th><th>Activity</th><th>By</th><th>Targets</th><th>Ledger</th></tr></thead><tbody>\n");
            foreach (var (e, c, seq) in rec.Events)
            {
                sb.Append("<tr class=\"rec-").Append(c).Append("\"><td><time>").Append(H(GovernanceClock.Format(e.Time))).Append("</time></td><td>").Append(c)
                    .Append("</td><td>").Append(H(e.Activity)).Append("</td><td>").Append(H(e.InitiatedBy)).Append("</td><td>")
                    .Append(H(string.Join(", ", e.TargetNames.Take(ComplianceAudit.SampleSize)))).Append("</td><td>").Append(seq is { } n ? "#" + n : "—").Append("</td></tr>\n");
                Spill();
            }

            sb.Append("</tbody></table></section>\n");
        }

        sb.Append("<script>\n").Append(Script).Append("</script>\n</body></html>\n");
        writer.Write(sb);
    }

    /// <summary>An id for an anchor: letters, digits and '-' only (the rest as _XXXX).</summary>
    private static string Anchor(string id)
    {
        var sb = new StringBuilder();
        foreach (var c in id)
        {
            if (c < 128 && (char.IsLetterOrDigit(c) || c == '-'))
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('_').Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static void JUnit(ComplianceReport report, Stream stream)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), CheckCharacters = true, CloseOutput = false };
        using (var w = XmlWriter.Create(stream, settings))
        {
            string T(string? s) => Display.SafeText.Show(s);
            var counted = report.Findings.Where(f => f.Status != FindingStatus.Resolved).ToList();
            w.WriteStartElement("testsuites");
            w.WriteAttributeString("name", T("Compliance audit of " + report.TenantId));
            // A check without findings is one passing test case; a check with findings, one failing case per finding.
            var tests = ComplianceCheck.All.Sum(c => Math.Max(1, counted.Count(f => f.CheckId == c.Id)));
            w.WriteAttributeString("tests", tests.ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("failures", counted.Count(f => f.Status != FindingStatus.Accepted).ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("skipped", counted.Count(f => f.Status == FindingStatus.Accepted).ToString(CultureInfo.InvariantCulture));
            w.WriteAttributeString("timestamp", GovernanceClock.Format(report.AuditedAt));
            foreach (var category in ComplianceCheck.All.GroupBy(c => c.Category))
            {
                var inCategory = counted.Where(f => f.Category == category.Key).ToList();
                w.WriteStartElement("testsuite");
                w.WriteAttributeString("name", category.Key);
                w.WriteAttributeString("tests", category.Sum(c => Math.Max(1, inCategory.Count(f => f.CheckId == c.Id))).ToString(CultureInfo.InvariantCulture));
                w.WriteAttributeString("failures", inCategory.Count(f => f.Status != FindingStatus.Accepted).ToString(CultureInfo.InvariantCulture));
                w.WriteAttributeString("skipped", inCategory.Count(f => f.Status == FindingStatus.Accepted).ToString(CultureInfo.InvariantCulture));
                foreach (var check in category)
                {
                    var mine = inCategory.Where(f => f.CheckId == check.Id).ToList();
                    if (mine.Count == 0)
                    {
                        w.WriteStartElement("testcase");
                        w.WriteAttributeString("classname", check.Category);
                        w.WriteAttributeString("name", $"{check.Id} {check.Name}");
                        w.WriteEndElement();
                        continue;
                    }

                    foreach (var f in mine)
                    {
                        w.WriteStartElement("testcase");
                        w.WriteAttributeString("classname", $"{check.Category}.{check.Id} {check.Name}");
                        w.WriteAttributeString("name", T($"{f.Id} ({f.TargetName})"));
                        w.WriteStartElement(f.Status == FindingStatus.Accepted ? "skipped" : "failure");
                        w.WriteAttributeString("type", f.Severity.ToString());
                        w.WriteAttributeString("message", T($"{f.Severity} {f.Status}: {f.Message}"));
                        w.WriteString(T(string.Join("\n", f.Evidence.Select(e => $"{e.Key} = {Value(e.Value)}"))
                            + (f.RemediationHint is null ? string.Empty : "\nRemediation: " + f.RemediationHint)));
                        w.WriteEndElement();
                        w.WriteEndElement();
                    }
                }

                w.WriteEndElement();
            }

            w.WriteEndElement();
        }

        stream.WriteByte((byte)'\n');
    }

    private const string Style = """
        body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1b1b1b; max-width: 1400px; }
        h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; } h3 { font-size: 14px; margin: 8px 0 4px; }
        .meta { color: #555; margin: 0 0 12px; } code { font-size: 12px; overflow-wrap: anywhere; }
        .cards { display: flex; gap: 10px; } .card { padding: 8px 14px; border-radius: 6px; min-width: 70px; background: #f2f2f2; }
        .card b { display: block; font-size: 22px; }
        .sev-Critical { background: #7a0019; color: #fff; } .sev-High { background: #c4320a; color: #fff; } .sev-Medium { background: #f0b400; }
        .sev-Low { background: #dbe9f7; } .sev-Info { background: #eee; }
        .badge { padding: 1px 6px; border-radius: 4px; font-size: 12px; }
        .filters { margin: 6px 0; display: flex; gap: 8px; align-items: center; } .filters input { width: 280px; padding: 3px 6px; }
        table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
        th { cursor: pointer; background: #fafafa; user-select: none; } th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
        td.msg { overflow-wrap: anywhere; } details.target { border: 1px solid #ddd; border-radius: 6px; margin: 6px 0; padding: 4px 10px; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 4px 0; } dt { color: #555; } dd { margin: 0; overflow-wrap: anywhere; }
        .hint { color: #333; font-style: italic; } ol.timeline li { margin: 2px 0; } ol.timeline li.now { font-weight: 600; }
        """;

    // Sorts and filters the rows already in the page; it reads no data and builds no HTML from text.
    private const string Script = """
        (function () {
          var table = document.getElementById('findings-table'), body = table.tBodies[0];
          var q = document.getElementById('q'), sev = document.getElementById('sev'), st = document.getElementById('st'), shown = document.getElementById('shown');
          function filter() {
            var text = q.value.toLowerCase(), n = 0, rows = body.rows;
            for (var i = 0; i < rows.length; i++) {
              var r = rows[i];
              var ok = (!text || r.textContent.toLowerCase().indexOf(text) >= 0) && (!sev.value || r.getAttribute('data-severity') === sev.value) && (!st.value || r.getAttribute('data-status') === st.value);
              r.hidden = !ok; if (ok) n++;
            }
            shown.textContent = n + ' of ' + rows.length + ' shown';
          }
          var heads = table.tHead.rows[0].cells;
          for (var c = 0; c < heads.length; c++) (function (col, th) {
            function sort() {
              var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
              for (var k = 0; k < heads.length; k++) heads[k].removeAttribute('aria-sort');
              th.setAttribute('aria-sort', dir);
              var num = th.getAttribute('data-sort') === 'num', rows = Array.prototype.slice.call(body.rows);
              rows.sort(function (a, b) {
                var x = num ? +a.cells[col].getAttribute('data-value') : a.cells[col].textContent, y = num ? +b.cells[col].getAttribute('data-value') : b.cells[col].textContent;
                var d = num ? x - y : x.localeCompare(y); return dir === 'ascending' ? d : -d;
              });
              rows.forEach(function (r) { body.appendChild(r); });
            }
            th.addEventListener('click', sort); th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
          })(c, heads[c]);
          q.addEventListener('input', filter); sev.addEventListener('change', filter); st.addEventListener('change', filter); filter();
        })();
        """;
}
