"""The strategy report end to end: `kpictl report` against kpi_server with
the shipped Asahikawa dataset writes index.html and one .svg per KPI; the
files are well-formed, self-contained and hold every KPI; and in headless
Chromium (Debian's, with fonts-noto-cjk) the report loads without a console
error or a network request, every KPI shows its chart, one chart's marks sit
where its data and its documented map put them (read back from the DOM), a
PDF print starts each goal on a page of its own, and a screenshot of the
first page is taken (REPORT_SCREENSHOT, by default
BUILD_DIR/report-first-page.png; the README's docs/report-first-page.png).

Under CI=true a missing browser fails; otherwise its tests are skipped."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import harness

SEED = "asahikawa-2020"
SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = os.environ.get("KPI_CHROMIUM", "/usr/bin/chromium")
GOALS = 4


def chromium_available():
    return os.access(CHROMIUM, os.X_OK)


def run_chromium(*args, timeout=120):
    """Headless Chromium on nothing but local files: every host name fails
    to resolve, so a page that fetched anything would log an error."""
    profile = tempfile.mkdtemp(prefix="kpi-chromium-")
    try:
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                   "--no-first-run", "--no-default-browser-check",
                   "--disable-extensions", "--disable-dev-shm-usage",
                   "--disable-background-networking",
                   "--host-resolver-rules=MAP * ~NOTFOUND",
                   "--enable-logging=stderr", "--log-level=0",
                   f"--user-data-dir={profile}", *args]
        return subprocess.run(command, capture_output=True, text=True,
                              timeout=timeout, env=harness.client_env())
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def console_lines(stderr):
    """What the page logged to its console, errors and uncaught exceptions
    included: with --log-level=0 Chromium logs each message to stderr as
    `[...:INFO:CONSOLE:1] "message", source: url (1)`."""
    return [line for line in stderr.splitlines()
            if ":CONSOLE:" in line or ":CONSOLE(" in line]


# The probe: measures the loaded page and writes what it found into the DOM,
# which --dump-dom then prints. It runs in a copy of the report only.
PROBE = r"""
<script>
(function () {
  const out = {kpis: [], goals: [], chart: null};
  for (const a of document.querySelectorAll('article.kpi')) {
    const svg = a.querySelector('svg.fan-chart');
    const r = svg ? svg.getBoundingClientRect() : null;
    out.kpis.push({kpi: a.dataset.kpi, width: r ? r.width : 0,
                   height: r ? r.height : 0,
                   title: svg ? svg.querySelector('title').textContent : '',
                   marks: svg ? svg.querySelectorAll('.obs').length : 0});
  }
  for (const g of document.querySelectorAll('section.goal')) {
    out.goals.push({id: g.id, breakBefore: getComputedStyle(g).breakBefore});
  }
  const svg = document.querySelector('#chart-airport-passengers');
  if (svg) {
    const d = svg.dataset;
    const ctm = svg.getScreenCTM();
    const toScreen = (fy, v) => {
      const p = svg.createSVGPoint();
      p.x = Number(d.x0) + (fy - Number(d.fy0)) * Number(d.pxPerYear);
      p.y = Number(d.y0) - (v - Number(d.v0)) * Number(d.pxPerUnit);
      const s = p.matrixTransform(ctm);
      return [s.x, s.y];
    };
    const box = (e) => {
      const r = e.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    };
    const chart = {marks: [], median: [], svgBox: null, inside: true};
    const whole = svg.getBoundingClientRect();
    chart.svgBox = [whole.left, whole.top, whole.right, whole.bottom];
    for (const e of svg.querySelectorAll('.obs, .target')) {
      const expected = toScreen(Number(e.dataset.fy), Number(e.dataset.value));
      const drawn = box(e);
      chart.marks.push({cls: e.getAttribute('class'), fy: Number(e.dataset.fy),
                        value: Number(e.dataset.value), expected, drawn});
      if (drawn[0] < whole.left || drawn[0] > whole.right ||
          drawn[1] < whole.top || drawn[1] > whole.bottom) chart.inside = false;
    }
    const median = svg.querySelector('.median');
    const pairs = median.dataset.values.split(' ').map(s => s.split(':').map(Number));
    const points = median.points;
    for (let i = 0; i < pairs.length; i++) {
      const p = svg.createSVGPoint();
      p.x = points.getItem(i).x; p.y = points.getItem(i).y;
      const s = p.matrixTransform(ctm);
      chart.median.push({fy: pairs[i][0], value: pairs[i][1],
                         expected: toScreen(pairs[i][0], pairs[i][1]),
                         drawn: [s.x, s.y]});
    }
    chart.shocks = svg.querySelectorAll('.shock').length;
    chart.bands = [...svg.querySelectorAll('.band')].map(b => b.dataset.level);
    chart.alternative = svg.querySelectorAll('.alternative').length;
    out.chart = chart;
  }
  const pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def pdf_pages(data):
    """Page objects of a PDF, in document order, and each page's object
    number (Chromium writes plain objects, some streams deflated)."""
    objects = {}
    for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S):
        objects[int(m.group(1))] = m.group(2)
    root_pages = [n for n, body in objects.items()
                  if re.search(rb"/Type\s*/Pages\b", body)
                  and not re.search(rb"/Parent\s", body)]
    order = []

    def walk(n):
        body = objects[n]
        if re.search(rb"/Type\s*/Pages\b", body):
            kids = re.search(rb"/Kids\s*\[(.*?)\]", body, re.S).group(1)
            for k in re.findall(rb"(\d+) 0 R", kids):
                walk(int(k))
        else:
            order.append(n)
    for n in root_pages:
        walk(n)
    return order, objects


def named_destinations(objects):
    """name -> (page object number, y in points from the page's bottom),
    from the PDF's named destinations (the targets of the report's internal
    links: Chromium writes `/goal-1 [181 0 R /XYZ 0 825.4 0]`)."""
    out = {}
    for body in objects.values():
        for m in re.finditer(
                rb"/(goal-\d+)\s*\[\s*(\d+) 0 R\s*/XYZ\s+[\d.]+\s+([\d.]+)",
                body):
            out[m.group(1).decode()] = (int(m.group(2)), float(m.group(3)))
    return out


class ReportTest(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.kpictl = harness.tool("KPICTL")
        super().setUpClass()
        cls.out = os.path.join(cls.tmp, "report")
        command = [cls.kpictl, f"--server={cls.server.address}", "--lang=ja",
                   "report", f"--out={cls.out}"]
        cls.result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=120, env=harness.client_env())
        dataset = json.loads(subprocess.run(
            [cls.kpictl, f"--server={cls.server.address}", "export",
             f"--strategy={SEED}"], capture_output=True, text=True,
            timeout=60, env=harness.client_env()).stdout)
        cls.kpis = [k["name"] for k in dataset["kpis"]]
        cls.airport_years = sorted(
            o["fiscal_year"] for o in dataset["observations"]
            if o["name"].startswith(f"strategies/{SEED}/kpis/airport-passengers/"))

    def index(self):
        with open(os.path.join(self.out, "index.html"), encoding="utf-8") as f:
            return f.read()

    # ---- the files -----------------------------------------------------

    def test_kpictl_writes_index_and_one_svg_per_kpi(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertEqual(self.result.stdout.strip(),
                         os.path.join(self.out, "index.html"))
        self.assertEqual(len(self.kpis), 30)
        files = sorted(os.listdir(self.out))
        expected = sorted(["index.html"] +
                          [k.rsplit("/", 1)[1] + ".svg" for k in self.kpis])
        self.assertEqual(files, expected)

    def test_svg_files_are_well_formed_with_title_desc_and_exact_values(self):
        for name in self.kpis:
            kpi_id = name.rsplit("/", 1)[1]
            with self.subTest(kpi=kpi_id):
                root = ET.parse(os.path.join(self.out, kpi_id + ".svg")).getroot()
                self.assertEqual(root.tag, SVG + "svg")
                self.assertTrue(root.find(SVG + "title").text)
                self.assertTrue(root.find(SVG + "desc").text)
                obs = [e for e in root.iter()
                       if "obs" in e.get("class", "").split()]
                self.assertGreater(len(obs), 0)
                for e in obs:
                    float(e.get("data-value"))  # parses

    def test_html_is_self_contained_and_holds_every_kpi(self):
        html = self.index()
        self.assertNotRegex(html, r"https?:")
        self.assertNotIn("<script", html)
        self.assertNotIn("<link", html)
        self.assertNotIn("src=", html)
        for name in self.kpis:
            kpi_id = name.rsplit("/", 1)[1]
            self.assertIn(f'<article class="kpi" id="kpi-{kpi_id}"', html)
            self.assertIn(f'<svg class="fan-chart" id="chart-{kpi_id}"', html)
        self.assertEqual(html.count('<section class="goal"'), GOALS)

    def test_english_report(self):
        out = os.path.join(self.tmp, "report-en")
        result = subprocess.run(
            [self.kpictl, f"--server={self.server.address}", "--lang=en",
             "report", f"--strategy={SEED}", f"--out={out}"],
            capture_output=True, text=True, timeout=120,
            env=harness.client_env())
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
            html = f.read()
        self.assertIn('<html lang="en">', html)
        self.assertIn("KPIs by status", html)

    def test_errors(self):
        result = subprocess.run(
            [self.kpictl, f"--server={self.server.address}", "report"],
            capture_output=True, text=True, timeout=60,
            env=harness.client_env())
        self.assertEqual(result.returncode, 1)
        self.assertIn("INVALID_ARGUMENT: report needs --out DIR", result.stderr)
        result = subprocess.run(
            [self.kpictl, f"--server={self.server.address}", "report",
             "--strategy=asahikawa-202", f"--out={self.tmp}/x"],
            capture_output=True, text=True, timeout=60,
            env=harness.client_env())
        self.assertEqual(result.returncode, 1)
        self.assertIn("NOT_FOUND", result.stderr)
        self.assertIn("closest: strategies/asahikawa-2020", result.stderr)

    def test_readme_agreement_table_is_what_the_report_computes(self):
        import report_agreement
        computed = report_agreement.rows(self.index())
        self.assertEqual(len(computed), 19)
        path = os.path.join(harness.env_path("KPI_SOURCE_DIR"), "README.md")
        with open(path, encoding="utf-8") as f:
            readme = f.read()
        section = readme.split("### The suggested rating, evaluated", 1)[1]
        table = [line for line in section.splitlines() if line.startswith("| g")]
        cells = [[c.strip() for c in line.strip().strip("|").split("|")][:7]
                 for line in table]
        self.assertEqual(cells, computed)
        agreed = sum(1 for row in computed if row[-1] == "yes")
        self.assertIn(f"**They agree for {agreed} of {len(computed)} measures.**",
                      readme)

    # ---- in the browser --------------------------------------------------

    def require_browser(self):
        harness.require(chromium_available(),
                        f"{CHROMIUM} (Debian package chromium) is not installed")

    def test_console_logging_is_seen(self):
        """The console check below can fail: a page that logs an error is
        caught. (That nothing is fetched is checked on the file: no URL,
        script, link or src; the browser resolves no host name.)"""
        self.require_browser()
        bad = os.path.join(self.tmp, "bad.html")
        with open(bad, "w", encoding="utf-8") as f:
            f.write('<!DOCTYPE html><html><body><img src="http://example.com/x.png">'
                    '<script>console.error("kpi-probe-error")</script></body></html>')
        result = run_chromium("--dump-dom", "file://" + bad)
        lines = console_lines(result.stderr)
        self.assertTrue(any("kpi-probe-error" in line for line in lines),
                        result.stderr[-3000:])

    def test_loads_without_console_errors(self):
        self.require_browser()
        result = run_chromium("--dump-dom",
                              "file://" + os.path.join(self.out, "index.html"))
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertEqual(console_lines(result.stderr), [])
        self.assertIn("基本目標1", result.stdout)

    def probe(self):
        probe = os.path.join(self.tmp, "probe.html")
        with open(probe, "w", encoding="utf-8") as f:
            f.write(self.index().replace("</body>", PROBE + "</body>"))
        result = run_chromium("--window-size=1000,1400", "--dump-dom",
                              "file://" + probe)
        m = re.search(r'<pre id="probe-result">(.*?)</pre>', result.stdout, re.S)
        self.assertIsNotNone(m, result.stderr[-3000:])
        text = (m.group(1).replace("&quot;", '"').replace("&lt;", "<")
                .replace("&gt;", ">").replace("&amp;", "&"))
        return json.loads(text)

    def test_every_kpi_shows_its_chart(self):
        self.require_browser()
        found = self.probe()
        self.assertEqual(sorted(k["kpi"] for k in found["kpis"]),
                         sorted(self.kpis))
        for k in found["kpis"]:
            with self.subTest(kpi=k["kpi"]):
                self.assertGreater(k["width"], 300)
                self.assertGreater(k["height"], 150)
                self.assertGreater(k["marks"], 0)
                self.assertTrue(k["title"].endswith("の推移と予測"))
        self.assertEqual([g["breakBefore"] for g in found["goals"]],
                         ["page"] * GOALS)

    def test_one_chart_by_structure(self):
        """空港乗降客数: each mark where its data and the documented map put
        it, as laid out by the browser (within a pixel)."""
        self.require_browser()
        chart = self.probe()["chart"]
        self.assertIsNotNone(chart)
        self.assertTrue(chart["inside"])
        self.assertEqual(chart["bands"], ["95", "80", "50"])
        self.assertEqual(chart["shocks"], 2)   # FY2020 and FY2021
        self.assertEqual(chart["alternative"], 1)
        marks = chart["marks"]
        self.assertEqual([m["fy"] for m in marks if m["cls"] != "target"],
                         self.airport_years)
        self.assertEqual(self.airport_years[-1], 2021)
        for m in marks + chart["median"]:
            with self.subTest(mark=m):
                self.assertAlmostEqual(m["drawn"][0], m["expected"][0], delta=1)
                self.assertAlmostEqual(m["drawn"][1], m["expected"][1], delta=1)
        # Later years to the right; the target (145) above the latest (45.9).
        xs = [m["drawn"][0] for m in marks if m["cls"] != "target"]
        self.assertEqual(xs, sorted(xs))
        target = [m for m in marks if m["cls"] == "target"][0]
        self.assertEqual((target["fy"], target["value"]), (2024, 145))
        latest = [m for m in marks if m["fy"] == 2021][0]
        self.assertLess(target["drawn"][1], latest["drawn"][1])
        self.assertAlmostEqual(chart["median"][-1]["drawn"][0],
                               target["drawn"][0], delta=1)

    def test_pdf_print_has_a_page_per_goal(self):
        self.require_browser()
        pdf = os.path.join(self.tmp, "report.pdf")
        result = run_chromium("--no-pdf-header-footer",
                              f"--print-to-pdf={pdf}",
                              "file://" + os.path.join(self.out, "index.html"))
        self.assertTrue(os.path.exists(pdf), result.stderr[-3000:])
        with open(pdf, "rb") as f:
            data = f.read()
        pages, objects = pdf_pages(data)
        # The summary, then each goal from a page of its own (and more
        # pages for its KPIs).
        self.assertGreaterEqual(len(pages), 1 + GOALS)
        destinations = named_destinations(objects)
        starts = [pages.index(destinations[f"goal-{n}"][0])
                  for n in range(1, GOALS + 1)]
        self.assertEqual(starts, sorted(set(starts)))  # distinct, in order
        self.assertGreater(starts[0], 0)  # not on the summary's page
        # Each goal's heading at the top of its page (A4 is 842 points
        # high; the margin is 14 mm, about 40 points).
        for n in range(1, GOALS + 1):
            self.assertGreater(destinations[f"goal-{n}"][1], 842 - 60, n)
        # A4 portrait: 595 x 842 points.
        box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]",
                        objects[pages[0]])
        self.assertIsNotNone(box)
        self.assertAlmostEqual(float(box.group(1)), 595.0, delta=1.5)
        self.assertAlmostEqual(float(box.group(2)), 842.0, delta=1.5)
        print(f"report.pdf: {len(pages)} pages; goals start on pages "
              f"{[s + 1 for s in starts]}")

    def test_screenshot_of_the_first_page(self):
        self.require_browser()
        shot = os.environ.get("REPORT_SCREENSHOT") or os.path.join(
            os.environ.get("KPI_BINARY_DIR", self.tmp), "report-first-page.png")
        result = run_chromium("--window-size=900,1270", "--hide-scrollbars",
                              f"--screenshot={shot}",
                              "file://" + os.path.join(self.out, "index.html"))
        self.assertTrue(os.path.exists(shot), result.stderr[-3000:])
        with open(shot, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        width = int.from_bytes(head[16:20], "big")
        self.assertEqual(width, 900)


if __name__ == "__main__":
    unittest.main()
