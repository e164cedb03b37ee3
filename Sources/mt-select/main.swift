import MTCommand

ToolMain.run(MTSelect.self)
