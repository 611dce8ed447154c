export {
  DEFAULT_INSTANCE_TYPES,
  expectedRate,
  instanceTypesOf,
  linuxOnDemand,
  type OfferFileSpec,
  offerFileChunks,
  offerProductDocuments,
} from './aws-offer-file.ts';
export {
  type AwsPriceListStandIn,
  type AwsPriceListStandInOptions,
  type AwsRegionOffer,
  OFFER_ROUTE,
  startAwsPriceListStandIn,
} from './aws-price-list-stand-in.ts';
export {
  type AwsPricingApiStandIn,
  type AwsPricingApiStandInOptions,
  PRICING_API_ROUTE,
  type PricingApiCall,
  startAwsPricingApiStandIn,
} from './aws-pricing-api-stand-in.ts';
export {
  AZURE_PRICES_ROUTE,
  type AzureRegionPrices,
  type AzureRetailItem,
  type AzureRetailPricesStandIn,
  type AzureRetailPricesStandInOptions,
  azureRetailItems,
  DEFAULT_AZURE_SIZES,
  startAzureRetailPricesStandIn,
} from './azure-retail-prices-stand-in.ts';
export {
  type CarrierStandIn,
  type CarrierStandInOptions,
  CHRONOPOST_ROUTE,
  DHL_ROUTES,
  LA_POSTE_ROUTE,
  podDocument,
  type ShipmentState,
  startChronopostStandIn,
  startDhlStandIn,
  startLaPosteStandIn,
} from './carrier-stand-ins.ts';
export { type ClazarStandIn, type ClazarStandInOptions, type ClazarUsage, startClazarStandIn } from './clazar-stand-in.ts';
export { type CliRun, repoRoot, tickflow, tickflowJson } from './cli-process.ts';
export { freePort } from './free-port.ts';
export {
  type Fault,
  type FaultOptions,
  type HttpStandIn,
  type HttpStandInOptions,
  type RecordedRequest,
  type RouteHandler,
  type StandInReply,
  type StandInRequest,
  startHttpStandIn,
} from './http-stand-in.ts';
export {
  EventTap,
  type ReadEvent,
  type ServiceProcess,
  type StartedServiceProcess,
  spawnServiceProcess,
  startServiceProcess,
} from './service-process.ts';
export { eventually, stack, uniqueName } from './stack.ts';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
export { ThrowawayKafka } from './throwaway-kafka.ts';
export { type ReadRecord, readRecords } from './topic-reader.ts';
