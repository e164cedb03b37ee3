import MTCommand

ToolMain.run(MTEval.self)
