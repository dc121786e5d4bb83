using System.Text.Json;
using System.Xml;
using Azure.Messaging.ServiceBus;
using FunctionApp.Hosting;
using FunctionApp.Messaging;
using FunctionApp.Messaging.Redrive;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// The Service Bus numbers that live in two places stay equal: what host.json gives the Functions trigger and what
/// the standalone drain does itself, the queue's duplicate-detection window in Bicep and the re-drive's default, and the
/// emulator queue and connection string the README gives a local func start.
/// </summary>
[Collection(CompiledTemplatesCollection.Name)]
public sealed class ServiceBusSettingsInStepTests(CompiledTemplates templates)
{
    private static JsonElement HostServiceBus(JsonDocument host) => host.RootElement.GetProperty("extensions").GetProperty("serviceBus");

    [Fact]
    public void The_standalone_drain_receives_as_host_json_tells_the_trigger_to()
    {
        using var host = DeploymentFiles.Json("host.json");
        var serviceBus = HostServiceBus(host);
        var drain = new ServiceBusQueueDrainOptions();

        Assert.Equal(serviceBus.GetProperty("maxConcurrentCalls").GetInt32(), drain.MaxConcurrentCalls);
        Assert.Equal(TimeSpan.Parse(serviceBus.GetProperty("maxAutoLockRenewalDuration").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            drain.MaxLockRenewal);
        Assert.Equal(0, serviceBus.GetProperty("prefetchCount").GetInt32());
    }

    [Fact]
    public void The_drain_client_retries_as_host_json_tells_the_trigger_to_and_the_sender_keeps_its_deadline()
    {
        using var host = DeploymentFiles.Json("host.json");
        var retry = HostServiceBus(host).GetProperty("clientRetryOptions");
        var apply = ServiceBusConnection.ApplyRetryOptions();

        Assert.Equal(Enum.Parse<ServiceBusRetryMode>(retry.GetProperty("mode").GetString()!), apply.Mode);
        Assert.Equal(retry.GetProperty("maxRetries").GetInt32(), apply.MaxRetries);
        Assert.Equal(Duration(retry, "delay"), apply.Delay);
        Assert.Equal(Duration(retry, "maxDelay"), apply.MaxDelay);
        Assert.Equal(Duration(retry, "tryTimeout"), apply.TryTimeout);

        // The acknowledgement's client fails inside the 1 s deadline: every try and the delays between them.
        var acknowledgement = ServiceBusEventQueue.AcknowledgementRetryOptions();
        var worst = acknowledgement.TryTimeout * (acknowledgement.MaxRetries + 1) + acknowledgement.MaxDelay * acknowledgement.MaxRetries;
        Assert.True(worst < ServiceBusEventQueue.MaxEnqueueTime, $"{worst} is not inside {ServiceBusEventQueue.MaxEnqueueTime}");
    }

    [Fact]
    public void The_redrive_holds_dead_letters_for_the_window_the_bicep_queue_detects_duplicates_in()
    {
        var defaults = templates.Main.Parameter("queueSettings").GetProperty("defaultValue");
        var window = XmlConvert.ToTimeSpan(defaults.GetProperty("duplicateDetectionHistoryTimeWindow").GetString()!);

        Assert.Equal(window, RedriveRequest.DefaultDuplicateDetectionWindow);
        Assert.Equal(window, new RedriveRequest(1, DryRun: false).DuplicateDetectionWindow);
    }

    [Fact]
    public void The_readme_gives_func_start_the_sample_connection_and_an_emulator_queue_set_as_the_bicep_queue()
    {
        using var local = DeploymentFiles.Json("local.settings.sample.json");
        var values = local.RootElement.GetProperty("Values");
        var readme = DeploymentFiles.Text("README.md");
        var defaults = templates.Main.Parameter("queueSettings").GetProperty("defaultValue");

        Assert.Contains(values.GetProperty(AppSettingNames.ServiceBusConnection).GetString()!, readme, StringComparison.Ordinal);
        Assert.Contains($"\"Name\": \"{values.GetProperty(AppSettingNames.RelationshipEventsQueue).GetString()}\"", readme, StringComparison.Ordinal);
        Assert.Contains($"\"LockDuration\": \"{defaults.GetProperty("lockDuration").GetString()}\"", readme, StringComparison.Ordinal);
        Assert.Contains($"\"MaxDeliveryCount\": {defaults.GetProperty("maxDeliveryCount").GetInt32()},", readme, StringComparison.Ordinal);
        Assert.Contains($"\"DuplicateDetectionHistoryTimeWindow\": \"{defaults.GetProperty("duplicateDetectionHistoryTimeWindow").GetString()}\"", readme, StringComparison.Ordinal);
        Assert.Contains("\"RequiresDuplicateDetection\": true", readme, StringComparison.Ordinal);
    }

    private static TimeSpan Duration(JsonElement element, string name) =>
        TimeSpan.Parse(element.GetProperty(name).GetString()!, System.Globalization.CultureInfo.InvariantCulture);
}
