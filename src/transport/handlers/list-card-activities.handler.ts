import type { ListCardActivitiesRequest, ListCardActivitiesResponse } from '../../../gen/giftcard/v1/card_activity';
import { listCardActivities } from '../../application/list-card-activities';
import type { AppContext } from '../../application/ports';
import { activityTypeFromProto, cardActivityToProto } from '../activity-mappers';
import { RequestFields } from '../validation';

export const listCardActivitiesHandler =
  (app: AppContext) =>
  async (request: ListCardActivitiesRequest): Promise<ListCardActivitiesResponse> => {
    const fields = new RequestFields();
    const type = activityTypeFromProto(request.activityType);
    if (type === undefined) fields.violation('activityType', 'is not an activity type of this service');
    const query = {
      card: fields.cardReference(request),
      pageSize: fields.pageSize('pageSize', request.pageSize),
      pageToken: fields.optionalPageToken('pageToken', request.pageToken),
      type: type ?? null,
    };
    fields.check();
    const page = await listCardActivities(app, query);
    return { activities: page.activities.map(cardActivityToProto), nextPageToken: page.nextPageToken ?? '' };
  };
