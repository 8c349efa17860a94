"""Prints, from a report written by `kpictl report --lang=ja`, the table of
the README's "The suggested rating, evaluated": per measure with a city
rating, its KPIs' probabilities of meeting their targets, their mean, the
suggested rating, the city's rating and whether they agree; then the count.
The README adds a last column (why they differ) by hand; test_report.py
checks that the README's other columns are what this prints.

Usage: report_agreement.py REPORT_DIR/index.html"""

import html as htmllib
import re
import sys

RATING = {"RATING_CONTINUE_AND_EXPAND": "継続発展", "RATING_CONTINUE": "継続",
          "RATING_REVISE": "見直し", "RATING_UNSPECIFIED": "-"}


def rows(page):
    out = []
    for m in re.finditer(
            r'<section class="measure" id="measure-([^"]+)"[^>]*>\n<h3>(.*?)</h3>'
            r'(.*?)</section>', page, re.S):
        measure_id, heading, body = m.group(1), m.group(2), m.group(3)
        city = re.search(r'class="rating city" data-rating="(\w+)"', body).group(1)
        suggested = re.search(r'class="rating suggested" data-rating="(\w+)"',
                              body).group(1)
        if city == "RATING_UNSPECIFIED":
            continue
        kpis = []
        for a in re.finditer(r'<article class="kpi"[^>]*>\n<h4>(.*?)</h4>(.*?)</article>',
                             body, re.S):
            p = re.search(r'<tr class="probability"><th>[^<]*</th><td><strong>'
                          r'([^<]*)</strong>', a.group(2))
            name = htmllib.unescape(a.group(1))
            probability = htmllib.unescape(p.group(1)).split(" ")[0] if p else "-"
            kpis.append(f"{name} {probability}")
        basis = re.search(r'達成確率の平均 ([^<]*)</span>', body)
        out.append([measure_id, htmllib.unescape(heading), "; ".join(kpis),
                    htmllib.unescape(basis.group(1)) if basis else "-",
                    RATING[suggested],
                    RATING[city], "yes" if city == suggested else "no"])
    return out


def table(page):
    lines = ["| measure | | KPIs: P(met) | mean | suggested | city FY2021 | agree |",
             "|---|---|---|---|---|---|---|"]
    for r in rows(page):
        lines.append("| " + " | ".join(r) + " |")
    agreed = sum(1 for r in rows(page) if r[-1] == "yes")
    lines.append("")
    lines.append(f"agree: {agreed} of {len(rows(page))} measures")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        print(table(f.read()))
