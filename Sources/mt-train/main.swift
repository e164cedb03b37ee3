import MTCommand

ToolMain.run(MTTrain.self)
