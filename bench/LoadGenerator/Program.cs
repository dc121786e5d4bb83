using LoadGenerator;

if (args.Length == 0)
{
    Console.Error.WriteLine("""
        usage: LoadGenerator <command> [--option value ...]
          broker      the Service Bus test broker: prints its connection string, runs until SIGTERM
          http        closed-loop callback load against the app (or its baseline endpoint)
          cold-start  start the published handler repeatedly; time to its first acknowledgement
          queue-put   baseline: raw Storage-queue put messages against the same Azurite
          sb-send     baseline: raw ServiceBusSender sends against the same broker
          table-batch baseline: raw entity inserts in entity group transactions
          apply       enqueue relationship batches and time the app's drain until every edge is applied
          fuzz        hostile requests; every answer must be a 4xx in the platform's format
          verify      every acknowledged callback is stored exactly once
          queue-count print a queue's approximate message count
          reconcile   users reconciled per second against the fake platform API, and its call rate
        """);
    return 2;
}

var options = new Options(args.Skip(1));
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

return args[0] switch
{
    "broker" => await BenchBroker.RunAsync(options, cancel.Token),
    "sb-send" => await ServiceBusBaselines.SendAsync(options, cancel.Token),
    "http" => await HttpLoad.RunAsync(options, cancel.Token),
    "cold-start" => await ColdStart.RunAsync(options, cancel.Token),
    "queue-put" => await StorageBaselines.QueuePutAsync(options, cancel.Token),
    "table-batch" => await StorageBaselines.TableBatchAsync(options, cancel.Token),
    "apply" => await ApplyThroughput.RunAsync(options, cancel.Token),
    "fuzz" => await HostileInput.RunAsync(options, cancel.Token),
    "verify" => await StoredOnce.RunAsync(options, cancel.Token),
    "queue-count" => await StorageBaselines.QueueCountAsync(options, cancel.Token),
    "queue-delete" => await StorageBaselines.QueueDeleteAsync(options, cancel.Token),
    "reconcile" => await Reconcile.RunAsync(options, cancel.Token),
    _ => throw new ArgumentException($"Unknown command '{args[0]}'."),
};
