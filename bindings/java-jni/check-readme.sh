#!/usr/bin/env bash
# check-readme.sh [JAVA_HOME] — the README's example runs as written.
# Takes the README's Maven dependency block and its Java example (which must
# equal examples/Example.java), makes a scratch project that depends on
# io.xchan:xchan by coordinates (run `mvn install` first), builds it with
# Maven and runs it; the output must be "words: 6".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && export JAVA_HOME=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 - "$here" "$scratch" <<'PY'
import re, sys, pathlib
here, scratch = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
readme = (here / "README.md").read_text()
example = (here / "examples" / "Example.java").read_text()
if "```java\n" + example + "```" not in readme:
    sys.exit("check-readme: README.md no longer shows examples/Example.java verbatim")
dep = re.search(r"```xml\n(<dependency>.*?</dependency>)\n```", readme, re.S)
if not dep:
    sys.exit("check-readme: README.md has no ```xml <dependency> block")
(scratch / "src/main/java").mkdir(parents=True)
(scratch / "src/main/java/Example.java").write_text(example)
(scratch / "pom.xml").write_text(f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId><artifactId>readme-example</artifactId><version>1</version>
  <properties><maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  <dependencies>{dep.group(1)}</dependencies>
  <build><plugins><plugin><groupId>org.apache.maven.plugins</groupId>
    <artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin></plugins></build>
</project>
""")
PY
cd "$scratch"
mvn -B -q -ntp package dependency:build-classpath -Dmdep.outputFile=cp.txt >/dev/null
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
out=$("$java" --enable-native-access=ALL-UNNAMED -cp "target/classes:$(cat cp.txt)" Example)
echo "$out"
[ "$out" = "words: 6" ] || { echo "check-readme: expected 'words: 6'" >&2; exit 1; }
