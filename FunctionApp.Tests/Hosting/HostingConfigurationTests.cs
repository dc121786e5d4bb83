using FunctionApp.Core;
using FunctionApp.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionApp.Tests.Hosting;

public class HostingConfigurationTests
{
    private static IConfiguration WithUnsignedAllowed(IConfiguration configuration) =>
        new ConfigurationBuilder().AddConfiguration(configuration)
            .AddInMemoryCollection([KeyValuePair.Create(AppSettingNames.CallbacksAllowUnsigned, (string?)"true")]).Build();

    private static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void The_functions_handler_port_selects_functions_mode_whatever_PORT_says()
    {
        Assert.Equal(new HostingEndpoint(HostingMode.Functions, 41234),
            HostingEndpoint.From(Settings(("FUNCTIONS_CUSTOMHANDLER_PORT", "41234"), ("PORT", "8080"))));
    }

    [Fact]
    public void Without_it_the_app_runs_standalone_on_PORT_or_7071()
    {
        Assert.Equal(new HostingEndpoint(HostingMode.Standalone, 8080), HostingEndpoint.From(Settings(("PORT", "8080"))));
        Assert.Equal(new HostingEndpoint(HostingMode.Standalone, 7071), HostingEndpoint.From(Settings()));
    }

    [Theory]
    [InlineData("FUNCTIONS_CUSTOMHANDLER_PORT", "http")]
    [InlineData("PORT", "70000")]
    [InlineData("PORT", "-1")]
    public void A_port_that_is_not_a_port_stops_startup_with_the_setting_named(string name, string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => HostingEndpoint.From(Settings((name, value))));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--PORT=0")]
    [InlineData("--FUNCTIONS_CUSTOMHANDLER_PORT=0")]
    public void The_app_refuses_to_start_with_unsigned_callbacks_and_names_the_settings(string mode)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RelationshipCallbacksApp.Build(
            [mode, "--RelationshipStorage=" + TestApp.UnreachableStorage, "--Tencent:Apps:1400000001:CallbackToken="]));
        Assert.Contains("Tencent:Apps:1400000001:CallbackToken", error.Message, StringComparison.Ordinal);
        Assert.Contains(AppSettingNames.OpenImCallbackKey, error.Message, StringComparison.Ordinal);
        Assert.Contains(AppSettingNames.CallbacksAllowUnsigned, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_query_api_key_shorter_than_the_minimum_stops_startup_without_printing_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => QueryApiKeys.Read(Settings(("QueryApi:Keys", "long-enough-key-0123,tiny-key"))));
        Assert.Contains(AppSettingNames.QueryApiKeys, error.Message, StringComparison.Ordinal);
        Assert.Contains("16", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("tiny-key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Body_limit_the_hosts_enforce_is_the_protocol_setting()
    {
        Assert.Equal(1024 * 1024, BodyLimitOf(Settings()).MaxBodyBytes);
        Assert.Equal(2049, BodyLimitOf(Settings(("Callbacks:MaxBodyBytes", "2048"))).ReadLimit);
        Assert.Throws<InvalidOperationException>(() => BodyLimitOf(Settings(("Callbacks:MaxBodyBytes", "0"))));
        Assert.Throws<InvalidOperationException>(() => BodyLimitOf(Settings(("Callbacks:MaxBodyBytes", "1MB"))));
    }

    private static CallbackBodyLimit BodyLimitOf(IConfiguration configuration) =>
        new ServiceCollection().AddCallbackIngestion(WithUnsignedAllowed(configuration)).BuildServiceProvider().GetRequiredService<CallbackBodyLimit>();

    [Fact]
    public void Query_api_keys_are_comma_separated_trimmed_and_compared_exactly()
    {
        var keys = QueryApiKeys.Read(Settings(("QueryApi:Keys", " alpha-key-0123456789 ,beta-key-0123456789,, ")));

        Assert.True(keys.AreConfigured);
        Assert.True(keys.Accepts("alpha-key-0123456789"));
        Assert.True(keys.Accepts("beta-key-0123456789"));
        Assert.False(keys.Accepts("Alpha-key-0123456789"));
        Assert.False(keys.Accepts("alpha-key-012345678"));
        Assert.False(keys.Accepts(""));
        Assert.False(keys.Accepts(null));
        Assert.False(QueryApiKeys.Read(Settings()).AreConfigured);
    }
}

public class StorageConfigurationTests
{
    private const string AllowUnsigned = "--Callbacks:AllowUnsigned=true";

    [Theory]
    [InlineData("--PORT=0")]
    [InlineData("--FUNCTIONS_CUSTOMHANDLER_PORT=0")]
    public void Startup_stops_with_the_setting_named_when_RelationshipStorage_is_missing(string mode)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RelationshipCallbacksApp.Build([mode, AllowUnsigned]));
        Assert.Contains("RelationshipStorage", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AccountName=relstore;AccountKey=c2VjcmV0LWtleS12YWx1ZQ==;Bogus")]
    [InlineData("AccountName=relstore;DefaultEndpointsProtocol=ftp;AccountKey=c2VjcmV0LWtleS12YWx1ZQ==")]
    [InlineData("UseDevelopmentStorage=maybe")]
    public void Startup_stops_with_the_setting_named_and_no_secret_when_RelationshipStorage_is_malformed(string connectionString)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RelationshipCallbacksApp.Build(["--PORT=0", AllowUnsigned, "--RelationshipStorage=" + connectionString]));
        Assert.Contains("RelationshipStorage", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LWtleS12YWx1ZQ==", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Relationship-Events")]
    [InlineData("q")]
    [InlineData("a--b")]
    [InlineData("this-queue-name-is-far-too-long-once-the-poison-suffix-is-on")]
    public void Standalone_startup_refuses_a_queue_name_storage_would_refuse(string name)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RelationshipCallbacksApp.Build(
            ["--PORT=0", AllowUnsigned, "--RelationshipStorage=UseDevelopmentStorage=true", "--RelationshipEventsQueue=" + name]));
        Assert.Contains("RelationshipEventsQueue", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("StandaloneQueue:VisibilityTimeoutSeconds", "2m")]
    [InlineData("StandaloneQueue:AcknowledgementLatencyTargetMilliseconds", "0")]
    [InlineData("StandaloneQueue:MaxPollIntervalMilliseconds", "10")]
    public void Standalone_startup_refuses_a_malformed_drain_setting(string name, string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RelationshipCallbacksApp.Build(
            ["--PORT=0", AllowUnsigned, "--RelationshipStorage=UseDevelopmentStorage=true", $"--{name}={value}"]));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Redelivery:RetryWithinDeliverySeconds", "-1", "--PORT=0")]
    [InlineData("Redelivery:FirstDelaySeconds", "0", "--PORT=0")]
    [InlineData("Redelivery:MaxDelaySeconds", "ten", "--FUNCTIONS_CUSTOMHANDLER_PORT=0")]
    [InlineData("Redelivery:ParkAfterSeconds", "6h", "--FUNCTIONS_CUSTOMHANDLER_PORT=0")]
    public async Task Startup_refuses_a_malformed_redelivery_setting(string name, string value, string mode)
    {
        await using var app = RelationshipCallbacksApp.Build([mode, AllowUnsigned, "--RelationshipStorage=UseDevelopmentStorage=true",
            "--ServiceBusConnection=" + TestApp.UnreachableServiceBus, $"--{name}={value}"]);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Redelivery:RetryWithinDeliverySeconds", "241", "", "function timeout")]
    [InlineData("Redelivery:MaxDelaySeconds", "5", "--Redelivery:FirstDelaySeconds=10", "at least Redelivery:FirstDelaySeconds")]
    [InlineData("Redelivery:MaxDelaySeconds", "604801", "", "7 days")]
    [InlineData("Redelivery:RetryWithinDeliverySeconds", "61", "--StandaloneQueue:VisibilityTimeoutSeconds=120", "half of StandaloneQueue:VisibilityTimeoutSeconds")]
    public async Task Standalone_startup_refuses_redelivery_settings_that_do_not_fit_together(string name, string value, string other, string reason)
    {
        string[] settings = ["--PORT=0", AllowUnsigned, "--RelationshipStorage=UseDevelopmentStorage=true", $"--{name}={value}"];
        await using var app = RelationshipCallbacksApp.Build(other.Length == 0 ? settings : [.. settings, other]);
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], 15)]
    [InlineData(new[] { "--StandaloneQueue:VisibilityTimeoutSeconds=240" }, 60)]
    [InlineData(new[] { "--Redelivery:RetryWithinDeliverySeconds=10" }, 10)]
    public async Task Unset_the_retry_within_a_delivery_is_cut_to_half_the_storage_queues_visibility_timeout(string[] settings, int expectedSeconds)
    {
        await using var app = RelationshipCallbacksApp.Build(
            ["--PORT=0", AllowUnsigned, "--RelationshipStorage=UseDevelopmentStorage=true", "--StandaloneQueue:VisibilityTimeoutSeconds=30", .. settings]);

        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RedeliveryOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), options.RetryWithinDelivery);
    }

    [Fact]
    public async Task Each_mode_cuts_batches_to_its_own_queue_message_size()
    {
        await using var standalone = await TestApp.StartStandaloneAsync();
        var storageLimit = standalone.Services.GetRequiredService<FunctionApp.Core.IRelationshipEventQueue>().MaxBatchJsonBytes;
        var storageQueue = new Azure.Storage.Queues.QueueClient("UseDevelopmentStorage=true", "relationship-events");
        Assert.True((storageLimit + 2) / 3 * 4 <= storageQueue.MessageMaxBytes);

        await using var functions = await TestApp.StartFunctionsAsync();
        var serviceBus = functions.Services.GetRequiredService<FunctionApp.Core.IRelationshipEventQueue>();
        Assert.IsType<FunctionApp.Messaging.ServiceBusEventQueue>(serviceBus);
        Assert.Equal(FunctionApp.Messaging.ServiceBusEventQueue.StandardTierMaxMessageBytes - FunctionApp.Messaging.ServiceBusEventQueue.MessageOverheadBytes,
            serviceBus.MaxBatchJsonBytes);
    }

    [Fact]
    public async Task Functions_mode_has_one_service_bus_client_for_the_process_and_closes_it_on_shutdown()
    {
        var functions = await TestApp.StartFunctionsAsync();
        var client = functions.Services.GetRequiredService<Azure.Messaging.ServiceBus.ServiceBusClient>();
        Assert.Same(client, functions.Services.GetRequiredService<Azure.Messaging.ServiceBus.ServiceBusClient>());
        _ = functions.Services.GetRequiredService<FunctionApp.Core.IRelationshipEventQueue>();
        Assert.False(client.IsClosed);

        await functions.DisposeAsync();

        Assert.True(client.IsClosed);
    }

    [Fact]
    public void Functions_startup_refuses_a_missing_or_malformed_service_bus_connection()
    {
        var missing = Assert.Throws<InvalidOperationException>(() => RelationshipCallbacksApp.Build(
            ["--FUNCTIONS_CUSTOMHANDLER_PORT=0", "--Callbacks:AllowUnsigned=true", "--RelationshipStorage=UseDevelopmentStorage=true"]));
        Assert.Contains("'ServiceBusConnection' is missing", missing.Message, StringComparison.Ordinal);

        var malformed = Assert.Throws<InvalidOperationException>(() => RelationshipCallbacksApp.Build(
            ["--FUNCTIONS_CUSTOMHANDLER_PORT=0", "--Callbacks:AllowUnsigned=true", "--RelationshipStorage=UseDevelopmentStorage=true", "--ServiceBusConnection=SharedAccessKey=secret-value"]));
        Assert.Contains("'ServiceBusConnection' is not a Service Bus connection string", malformed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value", malformed.Message, StringComparison.Ordinal);

        var host = Assert.Throws<InvalidOperationException>(() => RelationshipCallbacksApp.Build(
            ["--FUNCTIONS_CUSTOMHANDLER_PORT=0", "--Callbacks:AllowUnsigned=true", "--RelationshipStorage=UseDevelopmentStorage=true", "--ServiceBusConnection:fullyQualifiedNamespace=https://x/"]));
        Assert.Contains("ServiceBusConnection:fullyQualifiedNamespace", host.Message, StringComparison.Ordinal);
    }
}
