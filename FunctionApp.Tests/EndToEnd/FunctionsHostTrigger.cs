using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Messaging.ServiceBus;

namespace FunctionApp.Tests.EndToEnd;

/// <summary>
/// Stands in for the Functions host's Service Bus trigger of <c>ApplyRelationshipEvents</c>: takes each message from
/// the queue in peek-lock, invokes <c>POST /ApplyRelationshipEvents</c> with the payload the host sends (the body as a
/// JSON-encoded string in <c>Data.message</c>, the message's system and application properties in <c>Metadata</c>), completes it on a
/// 2xx answer and abandons it otherwise, so the queue dead-letters it at its max delivery count.
/// </summary>
internal sealed class FunctionsHostTrigger : IAsyncDisposable
{
    private readonly ServiceBusProcessor _processor;
    private readonly HttpClient _handler;
    private int _invocations;

    private FunctionsHostTrigger(ServiceBusProcessor processor, HttpClient handler)
    {
        _processor = processor;
        _handler = handler;
        _processor.ProcessMessageAsync += InvokeAsync;
        _processor.ProcessErrorAsync += _ => Task.CompletedTask;
    }

    public int Invocations => Volatile.Read(ref _invocations);

    public static async Task<FunctionsHostTrigger> StartAsync(ServiceBusClient client, string queueName, HttpClient handler)
    {
        var processor = client.CreateProcessor(queueName, new ServiceBusProcessorOptions
        {
            AutoCompleteMessages = false,
            MaxConcurrentCalls = 4,
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
        });
        var trigger = new FunctionsHostTrigger(processor, handler);
        await processor.StartProcessingAsync();
        return trigger;
    }

    public static string Payload(ServiceBusReceivedMessage message) => new JsonObject
    {
        ["Data"] = new JsonObject { ["message"] = JsonSerializer.Serialize(Encoding.UTF8.GetString(message.Body.ToArray())) },
        ["Metadata"] = new JsonObject
        {
            ["MessageId"] = message.MessageId,
            ["DeliveryCount"] = message.DeliveryCount,
            ["SequenceNumber"] = message.SequenceNumber,
            ["ContentType"] = message.ContentType,
            // The host passes the message's application properties as a JSON object (the redelivery state is text).
            ["ApplicationProperties"] = new JsonObject(message.ApplicationProperties.Select(p =>
                KeyValuePair.Create(p.Key, p.Value is string text ? JsonValue.Create(text) : (JsonNode?)JsonValue.Create(p.Value?.ToString())))),
            ["sys"] = new JsonObject { ["MethodName"] = "ApplyRelationshipEvents" },
        },
    }.ToJsonString();

    private async Task InvokeAsync(ProcessMessageEventArgs args)
    {
        Interlocked.Increment(ref _invocations);
        using var content = new StringContent(Payload(args.Message), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        bool succeeded;
        try
        {
            using var response = await _handler.PostAsync(new Uri("ApplyRelationshipEvents", UriKind.Relative), content, args.CancellationToken);
            succeeded = response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            succeeded = false;
        }

        if (succeeded)
        {
            await args.CompleteMessageAsync(args.Message);
        }
        else
        {
            await args.AbandonMessageAsync(args.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _processor.StopProcessingAsync();
        await _processor.DisposeAsync();
    }
}
