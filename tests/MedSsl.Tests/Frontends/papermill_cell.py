"""Runs, with Debian's nbclient, a notebook whose `parameters` cell is followed by the cell papermill's C# translator
writes for `papermill --language .net-csharp -p Seed 1001 -p Profile workshop -p Rate 0.5 -p Full true` (papermill is not in
Debian 12: the cell is written here exactly as papermill/translators.py's CSharpTranslator.codify does, a comment then
`var name = value;` per parameter). Prints {"result": <the last cell's text>} for FrontEndTests.cs."""
import json

from nbclient import NotebookClient
from nbformat import v4

nb = v4.new_notebook()
nb.metadata["kernelspec"] = {"display_name": "C# (MedSsl)", "language": "C#", "name": "medssl-csharp"}
parameters = v4.new_code_cell('var Profile = "quick";\nvar Seed = 1000;\nvar Rate = 0.1;\nvar Full = false;')
parameters.metadata["tags"] = ["parameters"]
injected = v4.new_code_cell('// Parameters\nvar Seed = 1001;\nvar Profile = "workshop";\nvar Rate = 0.5;\nvar Full = true;\n')
injected.metadata["tags"] = ["injected-parameters"]
nb.cells = [parameters, injected, v4.new_code_cell('$"{Profile} {Seed} {Rate.ToString(System.Globalization.CultureInfo.InvariantCulture)} {Full}"')]
NotebookClient(nb, timeout=60, startup_timeout=60).execute()
print(json.dumps({"result": nb.cells[2].outputs[0]["data"]["text/plain"]}))
