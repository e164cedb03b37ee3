import MTCommand

ToolMain.run(MTNcut.self)
