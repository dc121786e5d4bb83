using FunctionApp.Hosting;

var app = RelationshipCallbacksApp.Build(args);
app.Run();
