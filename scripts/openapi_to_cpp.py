#!/usr/bin/env python3
"""Converts docs/openapi.yaml to JSON and writes it as a C++ source file
defining fogbow::openapi_json() (src/http/openapi_document.hpp).

Usage: openapi_to_cpp.py DOCUMENT.yaml OUTPUT.cpp
"""
import json
import os
import sys

import yaml  # python3-yaml

DELIMITER = "fogbow_openapi"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, output = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as f:
        document = yaml.safe_load(f)
    if not isinstance(document, dict) or not str(
            document.get("openapi", "")).startswith("3."):
        sys.exit(f"{source}: not an OpenAPI 3 document")
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    if f"){DELIMITER}\"" in text:
        sys.exit(f"{source}: contains the raw string delimiter")
    cpp = ("// Generated from docs/openapi.yaml by scripts/openapi_to_cpp.py;"
           " do not edit.\n"
           "#include \"http/openapi_document.hpp\"\n\n"
           "namespace fogbow {\n\n"
           "std::string_view openapi_json() {\n"
           f"  static constexpr char document[] = R\"{DELIMITER}({text}){DELIMITER}\";\n"
           "  return {document, sizeof document - 1};\n"
           "}\n\n"
           "} // namespace fogbow\n")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(cpp)
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
