using FunctionApp.Hosting;

if (RedriveCommand.IsInvoked(args))
{
    // The operator's command: settings from the environment, as the app reads them.
    var settings = new ConfigurationBuilder().AddEnvironmentVariables().Build();
    return await RedriveCommand.RunAsync(args, settings, Console.Out, Console.Error, handleSignals: true);
}

var app = RelationshipCallbacksApp.Build(args);
app.Run();
return 0;
