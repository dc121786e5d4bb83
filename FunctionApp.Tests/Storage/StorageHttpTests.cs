using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using FunctionApp.Hosting;
using FunctionApp.Storage.Http;
using FunctionApp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace FunctionApp.Tests.Storage;

public class StorageHttpTests
{
    private static readonly StorageSharedKey DevelopmentKey =
        new(StorageConnectionString.DevelopmentAccountName, StorageConnectionString.DevelopmentAccountKey);

    private static Request NewRequest(RequestMethod method, string uri)
    {
        var request = HttpPipelineBuilder.Build(new StorageClientOptions()).CreateRequest();
        request.Method = method;
        request.Uri.Reset(new Uri(uri));
        request.Headers.SetValue("x-ms-date", "Mon, 01 Jan 2024 00:00:00 GMT");
        request.Headers.SetValue("x-ms-version", "2025-05-05");
        return request;
    }

    [Fact]
    public void Queue_shared_key_signs_the_documented_canonical_form()
    {
        using var request = NewRequest(RequestMethod.Post,
            "http://127.0.0.1:10001/devstoreaccount1/myqueue/messages?visibilitytimeout=30&messagettl=-1");
        request.Headers.SetValue("Content-Type", "application/xml");
        request.Content = RequestContent.Create("<QueueMessage><MessageText>aGk=</MessageText></QueueMessage>"u8.ToArray());

        var stringToSign = StorageSharedKeyPolicy.StringToSign(StorageService.Queue, SharedKeyScheme.SharedKey, "devstoreaccount1", request);

        Assert.Equal(
            "POST\n\n\n60\n\napplication/xml\n\n\n\n\n\n\nx-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\nx-ms-version:2025-05-05\n" +
            "/devstoreaccount1/devstoreaccount1/myqueue/messages\nmessagettl:-1\nvisibilitytimeout:30",
            stringToSign);
        // Computed independently: printf '<string>' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key> -binary | base64
        Assert.Equal("7OUzocfRKABv4FYi0WLtMMh5eirSQd9NH+9XkFtJAk0=", DevelopmentKey.Sign(stringToSign));
    }

    [Fact]
    public void Table_shared_key_and_lite_sign_the_documented_canonical_forms()
    {
        using var request = NewRequest(RequestMethod.Get, "http://127.0.0.1:10002/devstoreaccount1/Tables?$top=5");

        var sharedKey = StorageSharedKeyPolicy.StringToSign(StorageService.Table, SharedKeyScheme.SharedKey, "devstoreaccount1", request);
        var lite = StorageSharedKeyPolicy.StringToSign(StorageService.Table, SharedKeyScheme.SharedKeyLite, "devstoreaccount1", request);

        Assert.Equal("GET\n\n\nMon, 01 Jan 2024 00:00:00 GMT\n/devstoreaccount1/devstoreaccount1/Tables", sharedKey);
        Assert.Equal("xTTIoWBK7u+nSgfft7uKiDmecLL9GEiBUE4qVj03gko=", DevelopmentKey.Sign(sharedKey));
        Assert.Equal("Mon, 01 Jan 2024 00:00:00 GMT\n/devstoreaccount1/devstoreaccount1/Tables", lite);
    }

    [Fact]
    public void Development_storage_uses_azurites_default_endpoints_and_key()
    {
        var account = StorageConnectionString.Parse("UseDevelopmentStorage=true");
        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), account.TableServiceUri);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), account.QueueServiceUri);
        Assert.Equal("devstoreaccount1", account.SharedKey!.AccountName);
    }

    [Fact]
    public void Account_strings_derive_endpoints_from_protocol_and_suffix_unless_given()
    {
        var account = StorageConnectionString.Parse(
            "DefaultEndpointsProtocol=https;AccountName=relstore;AccountKey=" + Convert.ToBase64String(new byte[32]) +
            ";EndpointSuffix=core.chinacloudapi.cn;QueueEndpoint=http://127.0.0.1:4567/relstore/");
        Assert.Equal(new Uri("https://relstore.table.core.chinacloudapi.cn"), account.TableServiceUri);
        Assert.Equal(new Uri("http://127.0.0.1:4567/relstore"), account.QueueServiceUri);
        Assert.Equal("relstore", account.SharedKey!.AccountName);
        Assert.Null(account.TokenCredential);
    }

    [Theory]
    [InlineData("")]
    [InlineData("AccountName=a")]
    [InlineData("AccountName=a;AccountKey=SECRETnotbase64!!")]
    [InlineData("justSECRETtext")]
    [InlineData("AccountName=a;AccountKey=SECRET;AccountKey=SECRET")]
    [InlineData("UseDevelopmentStorage=false")]
    [InlineData("AccountName=a;AccountKey=AAAA;TableEndpoint=SECRET-not-a-uri")]
    [InlineData("SharedAccessSignature=sv=SECRET;TableEndpoint=https://a.table.core.windows.net")]
    public void Malformed_strings_fail_clearly_without_echoing_secrets(string connectionString)
    {
        var error = Assert.Throws<FormatException>(() => StorageConnectionString.Parse(connectionString));
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("The storage", error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void Configuration_accepts_a_connection_string()
    {
        var account = StorageAccountConfiguration.FromConfiguration(Configuration((AppSettingNames.RelationshipStorage, "UseDevelopmentStorage=true")));
        Assert.NotNull(account.SharedKey);
    }

    [Fact]
    public void Configuration_accepts_an_identity_section()
    {
        var account = StorageAccountConfiguration.FromConfiguration(Configuration(
            ($"{AppSettingNames.RelationshipStorage}:tableServiceUri", "https://relstore.table.core.windows.net"),
            ($"{AppSettingNames.RelationshipStorage}:queueServiceUri", "https://relstore.queue.core.windows.net"),
            ($"{AppSettingNames.RelationshipStorage}:credential", "managedidentity"),
            ($"{AppSettingNames.RelationshipStorage}:clientId", "00000000-0000-0000-0000-000000000001")));
        Assert.IsType<ManagedIdentityCredential>(account.TokenCredential);
        Assert.Null(account.SharedKey);
        Assert.Equal(new Uri("https://relstore.queue.core.windows.net"), account.GetServiceUri(StorageService.Queue));

        var byName = StorageAccountConfiguration.FromConfiguration(Configuration(($"{AppSettingNames.RelationshipStorage}:accountName", "relstore")));
        Assert.IsType<DefaultAzureCredential>(byName.TokenCredential);
        Assert.Equal(new Uri("https://relstore.table.core.windows.net"), byName.TableServiceUri);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("tableServiceUri", "http://relstore.table.core.windows.net")]
    [InlineData("credential", "clientsecret")]
    public void Missing_or_unusable_configuration_names_the_setting(string? key, string? value)
    {
        var configuration = key is null
            ? Configuration()
            : Configuration(
                ($"{AppSettingNames.RelationshipStorage}:queueServiceUri", "https://relstore.queue.core.windows.net"),
                ($"{AppSettingNames.RelationshipStorage}:{key}", value!));
        var error = Assert.Throws<InvalidOperationException>(() => StorageAccountConfiguration.FromConfiguration(configuration));
        Assert.Contains(AppSettingNames.RelationshipStorage, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_connection_string_in_configuration_names_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StorageAccountConfiguration.FromConfiguration(
            Configuration((AppSettingNames.RelationshipStorage, "AccountName=a;AccountKey=SECRET!"))));
        Assert.Contains(AppSettingNames.RelationshipStorage, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"odata.error\":{\"code\":\"EntityAlreadyExists\",\"message\":{\"lang\":\"en-US\",\"value\":\"The entity exists.\"}}}", "EntityAlreadyExists", "The entity exists.")]
    [InlineData("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>QueueNotFound</Code><Message>No queue.</Message></Error>", "QueueNotFound", "No queue.")]
    [InlineData("<html>gateway</html", null, null)]
    [InlineData("", null, null)]
    public void Error_bodies_yield_the_service_error_code(string body, string? code, string? message)
    {
        Assert.Equal((code, message), StorageErrors.Parse(System.Text.Encoding.UTF8.GetBytes(body)));
    }
}

[Collection(AzuriteCollection.Name)]
public class StorageQueueSigningTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task The_queue_service_accepts_the_shared_pipelines_signature()
    {
        var pipeline = StoragePipeline.Create(azurite.Account, StorageService.Queue);
        async Task<int> SendAsync(RequestMethod method, string path, string? query = null)
        {
            using var message = pipeline.CreateMessage();
            message.Request.Method = method;
            message.Request.Uri.Reset(new Uri(azurite.QueueEndpoint + path + query));
            await pipeline.SendAsync(message, CancellationToken.None);
            Assert.True(message.Request.Headers.TryGetValue("x-ms-client-request-id", out var requestId) && Guid.TryParse(requestId, out _));
            Assert.True(message.Request.Headers.TryGetValue("x-ms-version", out var version) && version == StorageClientOptions.DefaultServiceVersion);
            return message.Response.Status;
        }

        var queue = "/q" + Guid.NewGuid().ToString("N")[..12];
        Assert.Equal(201, await SendAsync(RequestMethod.Put, queue));
        Assert.Equal(200, await SendAsync(RequestMethod.Get, queue, "?comp=metadata"));
        Assert.Equal(200, await SendAsync(RequestMethod.Get, queue + "/messages", "?numofmessages=2&visibilitytimeout=5"));
    }
}
